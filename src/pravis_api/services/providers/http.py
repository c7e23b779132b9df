"""Requests to a cloud provider: one shared client, timeouts, bounded retries.

Retries follow stamina's exponential backoff with jitter, and happen only
where a second try can succeed: a connection that could not be opened, a
429 and a 5xx response. A Retry-After header sets the wait, unless it
requests more than the configured maximum, which fails the request at once.
Other 4xx responses and timed-out requests are never retried, because the
first fail again and the second may already have been processed.
"""

import logging
import time
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from typing import Any

import httpx
import stamina

from pravis_api import __version__
from pravis_api.services.providers.base import FAILED_ERRORS, TIMEOUT_ERRORS, Stage

logger = logging.getLogger(__name__)

USER_AGENT = f"pravis-api/{__version__}"
# Backoff before the first retry, and its maximum, in seconds. stamina adds
# up to RETRY_JITTER_SECONDS of random jitter.
RETRY_WAIT_INITIAL_SECONDS = 0.2
RETRY_WAIT_MAX_SECONDS = 2.0
RETRY_JITTER_SECONDS = 0.2


class RetryableStatusError(Exception):
    """A 429 or 5xx response, raised so that stamina can retry it."""

    def __init__(self, provider: str, response: httpx.Response) -> None:
        super().__init__(f"{provider} answered {response.status_code}")
        self.response = response


def retry_after_seconds(response: httpx.Response) -> float | None:
    """Return the wait that Retry-After requests, in seconds, or None."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


def status_text(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def create_http_client(
    timeout_seconds: float, auth_headers: dict[str, str]
) -> httpx.AsyncClient:
    """Create the client shared by all requests to one provider.

    `auth_headers` carry the key on every request.
    """
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout_seconds),
        headers={"User-Agent": USER_AGENT, **auth_headers},
        # Proxies and certificates come from the environment as usual.
        follow_redirects=False,
    )


class ProviderHttp:
    """Send requests to one provider and turn its failures into 502 or 504."""

    def __init__(
        self,
        name: str,
        title: str,
        client: httpx.AsyncClient,
        *,
        max_retries: int,
        max_retry_after_seconds: float,
    ) -> None:
        self.name = name
        self.title = title
        self.client = client
        self.max_retries = max_retries
        self.max_retry_after_seconds = max_retry_after_seconds

    async def post(self, url: str, *, stage: Stage, **request: Any) -> httpx.Response:
        """POST with retries; return a 2xx response or raise the stage's error.

        Raises ProviderFailedError (502) for an error response or a failed
        connection, and ProviderTimeoutError (504) for a timeout.
        """
        attempts = 0
        try:
            async for attempt in stamina.retry_context(
                on=self._should_retry,
                attempts=self.max_retries + 1,
                timeout=None,
                wait_initial=RETRY_WAIT_INITIAL_SECONDS,
                wait_max=RETRY_WAIT_MAX_SECONDS,
                wait_jitter=RETRY_JITTER_SECONDS,
            ):
                attempts = attempt.num
                with attempt:
                    response = await self.client.post(url, **request)
                    if response.status_code == 429 or response.status_code >= 500:
                        raise RetryableStatusError(self.name, response)
        except RetryableStatusError as exc:
            raise self._answered_error(exc.response, stage, attempts) from None
        except httpx.TimeoutException as exc:
            raise self._timeout_error(exc, stage) from None
        except httpx.TransportError as exc:
            raise self._connection_error(exc, stage) from None

        if response.status_code >= 400:
            raise self._answered_error(response, stage, attempts)
        return response

    def _should_retry(self, exc: Exception) -> bool | float:
        """Decide whether stamina retries; a float is the wait in seconds."""
        if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
            return True
        if not isinstance(exc, RetryableStatusError):
            return False
        wait = retry_after_seconds(exc.response)
        if wait is None:
            return True
        return wait if wait <= self.max_retry_after_seconds else False

    def _answered_error(
        self, response: httpx.Response, stage: Stage, attempts: int
    ) -> Exception:
        status = response.status_code
        extra: dict[str, Any] = {"provider": self.name, "stage": stage}
        extra.update(status=status, attempts=attempts)
        # Authentication errors may quote part of the key, so their body is
        # not logged.
        if status not in (401, 403):
            extra["body"] = response.text[:300]
        logger.warning("provider.failed", extra=extra)
        wait = retry_after_seconds(response)
        retried = f" on all {attempts} attempts" if attempts > 1 else ""
        return FAILED_ERRORS[stage](
            f"{self.title} answered the {stage} request with "
            f"{status_text(status)}{retried}. Retry later, and report the request "
            "id if it keeps failing.",
            provider=self.name,
            provider_status=status,
            retry_after_seconds=round(wait) if wait is not None else None,
        )

    def _timeout_error(self, exc: httpx.TimeoutException, stage: Stage) -> Exception:
        timeout = self.client.timeout.read
        logger.warning(
            "provider.timed_out",
            extra={"provider": self.name, "stage": stage, "error": repr(exc)},
        )
        return TIMEOUT_ERRORS[stage](
            f"{self.title} did not answer the {stage} request within "
            f"{timeout:g} s. Retry later.",
            provider=self.name,
        )

    def _connection_error(self, exc: httpx.TransportError, stage: Stage) -> Exception:
        logger.warning(
            "provider.unreachable",
            extra={"provider": self.name, "stage": stage, "error": repr(exc)},
        )
        return FAILED_ERRORS[stage](
            f"The connection to {self.title} for the {stage} request failed "
            f"({type(exc).__name__}). Retry later.",
            provider=self.name,
        )

    def invalid_answer(self, stage: Stage, problem: str) -> Exception:
        """Return the error for a 2xx answer that breaks the provider's protocol."""
        logger.warning(
            "provider.invalid_answer",
            extra={"provider": self.name, "stage": stage, "problem": problem},
        )
        return FAILED_ERRORS[stage](
            f"{self.title} answered the {stage} request with {problem}. Report "
            "the request id if it keeps failing.",
            provider=self.name,
            provider_status=200,
        )
