"""Simulated shoppers of the Pravis Boutique API, for Locust.

Run headless against a server you started on this machine, for example:

    .venv/bin/locust -f loadtest/locustfile.py --headless \
        --host http://127.0.0.1:8133 --users 16 --spawn-rate 8 --run-time 60s \
        --csv loadtest/results/smoke --html loadtest/results/smoke.html

`loadtest/run.py` starts a server with the load-test settings and runs this
for you. Every response is checked, and a 2xx is a success. A 429 or 503
that carries `Retry-After` is deliberate load shedding, reported as the
failure "shed: 429 with Retry-After" (or 503). Any other 5xx is reported
as "unexpected 5xx", and any other status as "unexpected" with the status.
"""

import itertools
import random
import secrets
import sys
import uuid
from pathlib import Path
from typing import Any

from locust import FastHttpUser, between, constant_pacing, events, task
from locust.contrib.fasthttp import ResponseContextManager

sys.path.insert(0, str(Path(__file__).resolve().parent))

import clips  # noqa: E402
from guard import RemoteTargetError, check_target  # noqa: E402

API = "/api/v1"
CATEGORIES = [
    "sarees", "kurtas", "suits", "dupattas", "stoles", "dresses", "tops", "shirts",
    "trousers", "skirts", "jackets", "knitwear", "shoes", "bags", "scarves",
    "jewellery",
]  # fmt: skip
COLOURS = ["red", "black", "white", "navy", "green", "blue", "pink", "yellow"]
SORTS = ["relevance", "featured", "price_asc", "price_desc", "rating", "newest"]
# The catalogue pages most shoppers open: after the first request each is a
# cache hit until CACHE_TTL_SECONDS passes or the catalogue changes.
POPULAR_SEARCHES = [
    {"page_size": "20"},
    {"category": "sarees"},
    {"category": "dresses", "color": "red"},
    {"featured": "true"},
    {"q": "silk"},
]
# Replies a frontend would speak again and again: cache hits after the first.
REPEATED_SPEECH = [
    "Welcome to Pravis Boutique. How can I help you today?",
    "Here are our red dresses under one hundred dollars.",
    "Your cart has been updated.",
    "You can return any item within thirty days.",
]
EXTRA_COMMANDS = [
    "show me silk sarees under two hundred dollars",
    "open my cart",
    "what is your shipping policy",
    "do you have linen shirts in size large",
    "show me the collection",
]

# Default weights of the user classes; each has a --weight-... option.
DEFAULT_WEIGHTS = {
    "speaking": 2,
    "text": 4,
    "browsing": 6,
    "speech": 2,
    "signed_in": 2,
}


@events.init_command_line_parser.add_listener
def add_options(parser: Any) -> None:
    group = parser.add_argument_group("Pravis shoppers")
    for key, weight in DEFAULT_WEIGHTS.items():
        option = key.replace("_", "-")
        group.add_argument(
            f"--weight-{option}",
            type=int,
            default=weight,
            help=f"Relative number of {option} shoppers (0 leaves them out).",
        )
    group.add_argument(
        "--think-scale",
        type=float,
        default=1.0,
        help="Factor on every shopper's pause between requests (1.0 as written).",
    )
    group.add_argument(
        "--allow-remote-host",
        action="store_true",
        default=False,
        help="Allow a --host that is not a loopback address. Load only servers "
        "you run and are allowed to load.",
    )


@events.init.add_listener
def apply_options(environment: Any, **_kwargs: Any) -> None:
    options = environment.parsed_options
    if options is None:
        return
    try:
        check_target(environment.host, allow_remote=options.allow_remote_host)
    except RemoteTargetError as exc:
        sys.exit(f"loadtest: {exc}")
    for user_class in SHOPPERS:
        user_class.weight = getattr(options, f"weight_{user_class.key}")
        user_class.think_scale = options.think_scale
    if all(user_class.weight == 0 for user_class in SHOPPERS):
        sys.exit("loadtest: every --weight-... option is 0; nothing would run.")
    # Locust drops classes of weight 0 only before this hook runs.
    environment.user_classes[:] = [
        user_class
        for user_class in environment.user_classes
        if user_class.weight > 0 or user_class.fixed_count > 0
    ]


def check(response: ResponseContextManager) -> None:
    """Mark the response a success, a deliberate shed, or a failure.

    A response with `X-Cache` is reported under its name followed by HIT or
    MISS, so cache hits and misses get separate statistics.
    """
    cache = response.headers.get("X-Cache") if response.headers else None
    if cache:
        response.request_meta["name"] = f"{response.request_meta['name']} {cache}"
    status = response.status_code
    if 200 <= status < 300:
        response.success()
    elif status in (429, 503) and response.headers.get("Retry-After"):
        response.failure(f"shed: {status} with Retry-After")
    elif status >= 500 or status == 0:
        response.failure(f"unexpected 5xx: {status} {response.text[:200]!r}")
    else:
        response.failure(f"unexpected {status}: {response.text[:200]!r}")


class Shopper(FastHttpUser):
    """A base for the shoppers: pauses scaled by --think-scale."""

    abstract = True
    key = ""
    think_scale = 1.0
    min_pause = 1.0
    max_pause = 3.0
    # Connections are kept open between requests, as a browser keeps them.
    connection_timeout = 10.0
    network_timeout = 60.0

    def wait_time(self) -> float:
        return self.think_scale * between(self.min_pause, self.max_pause)(self)

    def json_post(self, path: str, body: dict[str, Any], name: str) -> Any:
        with self.client.post(
            path, json=body, name=name, catch_response=True
        ) as response:
            check(response)
            return response.json() if response.status_code == 200 else None


class SpeakingShopper(Shopper):
    """An anonymous shopper speaking: real recordings and boutique commands.

    Requests are named by format (`/voice/query wav`, `webm`, `ogg`); the
    3.0-second clip has its own name, `/voice/query 3s wav`.
    """

    key = "speaking"
    weight = DEFAULT_WEIGHTS[key]
    # A shopper speaks for 2 to 3 s and listens to the reply between turns.
    min_pause = 4.0
    max_pause = 10.0

    def on_start(self) -> None:
        self.session_id: str | None = None
        self.turns = 0
        self.commands = clips.spoken_commands()
        self.recordings = clips.recordings()
        self.three_seconds = clips.three_second_clip()

    def _query(self, clip: clips.Clip, name: str) -> None:
        boundary = uuid.uuid4().hex
        fields = {"session_id": self.session_id} if self.session_id else {}
        body = clips.multipart_body(clip, fields, boundary)
        with self.client.post(
            f"{API}/voice/query",
            data=body,
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
            name=name,
            catch_response=True,
        ) as response:
            check(response)
            if response.status_code == 200:
                self.session_id = response.json()["session_id"]
        # A new conversation every few turns.
        self.turns += 1
        if self.turns % 5 == 0:
            self.session_id = None

    @task(6)
    def boutique_command(self) -> None:
        clip = random.choice(self.commands)
        self._query(clip, f"/voice/query {clip.kind}")

    @task(2)
    def human_recording(self) -> None:
        clip = random.choice(self.recordings)
        self._query(clip, f"/voice/query {clip.kind}")

    @task(2)
    def three_second_query(self) -> None:
        self._query(self.three_seconds, "/voice/query 3s wav")


class TextShopper(Shopper):
    """An anonymous shopper typing requests to /voice/command, in sessions."""

    key = "text"
    weight = DEFAULT_WEIGHTS[key]

    def on_start(self) -> None:
        self.texts = clips.command_texts() + EXTRA_COMMANDS
        self.session_id: str | None = None

    @task
    def command(self) -> None:
        body: dict[str, Any] = {"text": random.choice(self.texts)}
        if self.session_id:
            body["session_id"] = self.session_id
        reply = self.json_post(f"{API}/voice/command", body, "/voice/command")
        if reply is not None and random.random() < 0.8:
            self.session_id = reply["session_id"]
        else:
            self.session_id = None


class BrowsingShopper(Shopper):
    """An anonymous shopper browsing the catalogue.

    Popular searches repeat, so they are mostly cache hits; varied searches
    combine filters and pages at random, so most are misses that reach
    PostgreSQL.
    """

    key = "browsing"
    weight = DEFAULT_WEIGHTS[key]
    min_pause = 0.5
    max_pause = 2.0

    def _get(self, path: str, name: str, params: dict[str, str] | None = None) -> Any:
        with self.client.get(
            path, params=params, name=name, catch_response=True
        ) as response:
            check(response)
            return response.json() if response.status_code == 200 else None

    @task(5)
    def popular_search(self) -> None:
        self._get(f"{API}/products", "/products", random.choice(POPULAR_SEARCHES))

    @task(3)
    def varied_search(self) -> None:
        params = {
            "category": random.choice(CATEGORIES),
            "color": random.choice(COLOURS),
            "max_price": str(random.randint(20, 400)),
            "sort": random.choice(SORTS),
            "page": str(random.randint(1, 3)),
        }
        page = self._get(f"{API}/products", "/products", params)
        if page and page["items"]:
            product = random.choice(page["items"])
            self._get(f"{API}/products/{product['slug']}", "/products/{slug}")

    @task(1)
    def policies(self) -> None:
        self._get(f"{API}/store/policies", "/store/policies")


class SpeechShopper(Shopper):
    """A frontend asking for speech: repeated replies (cache hits after the
    first) and unique texts (misses, synthesised by eSpeak NG)."""

    key = "speech"
    weight = DEFAULT_WEIGHTS[key]

    @task(4)
    def repeated(self) -> None:
        body = {"text": random.choice(REPEATED_SPEECH), "format": "ogg"}
        with self.client.post(
            f"{API}/voice/speech",
            json=body,
            name="/voice/speech",
            catch_response=True,
        ) as response:
            check(response)

    @task(1)
    def unique(self) -> None:
        number = secrets.randbelow(1_000_000)
        body = {"text": f"Your order number is {number}. Thank you.", "format": "ogg"}
        with self.client.post(
            f"{API}/voice/speech",
            json=body,
            name="/voice/speech",
            catch_response=True,
        ) as response:
            check(response)


_account_numbers = itertools.count()


class SignedInShopper(Shopper):
    """A shopper with an account: registers and signs in once, then talks to
    the assistant and reads their history. Rate limits count per user."""

    key = "signed_in"
    weight = DEFAULT_WEIGHTS[key]
    min_pause = 2.0
    max_pause = 5.0

    def on_start(self) -> None:
        number = next(_account_numbers)
        email = f"load-{uuid.uuid4().hex[:12]}-{number}@example.com"
        password = secrets.token_urlsafe(16)
        self.json_post(
            f"{API}/auth/register",
            {"email": email, "password": password, "full_name": "Load Tester"},
            "/auth/register",
        )
        with self.client.post(
            f"{API}/auth/login",
            data=f"username={email}&password={password}",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            name="/auth/login",
            catch_response=True,
        ) as response:
            check(response)
            token = response.json()["access_token"] if response.ok else None
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.interaction_ids: list[str] = []

    def _get(self, path: str, name: str) -> Any:
        with self.client.get(
            path, headers=self.headers, name=name, catch_response=True
        ) as response:
            check(response)
            return response.json() if response.status_code == 200 else None

    @task(3)
    def history(self) -> None:
        page = self._get(f"{API}/voice/history", "/voice/history")
        if page:
            self.interaction_ids = [item["id"] for item in page["items"]]

    @task(1)
    def one_interaction(self) -> None:
        if self.interaction_ids:
            interaction = random.choice(self.interaction_ids)
            self._get(f"{API}/voice/history/{interaction}", "/voice/history/{id}")

    @task(2)
    def me(self) -> None:
        self._get(f"{API}/auth/me", "/auth/me")

    @task(2)
    def command(self) -> None:
        with self.client.post(
            f"{API}/voice/command",
            json={"text": random.choice(EXTRA_COMMANDS)},
            headers=self.headers,
            name="/voice/command signed-in",
            catch_response=True,
        ) as response:
            check(response)


class HealthProbe(FastHttpUser):
    """Two probes calling GET /health twice a second each, whatever the mix,
    as a load balancer would."""

    fixed_count = 2
    wait_time = constant_pacing(0.5)

    @task
    def health(self) -> None:
        with self.client.get(
            "/health", name="/health", catch_response=True
        ) as response:
            check(response)


SHOPPERS: list[type[Shopper]] = [
    SpeakingShopper,
    TextShopper,
    BrowsingShopper,
    SpeechShopper,
    SignedInShopper,
]
