"""The target check of the load-test kit: load goes to this machine only.

Kept free of Locust imports so the tests can load it without the
`loadtest` extra.
"""

import ipaddress
from urllib.parse import urlsplit

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


class RemoteTargetError(ValueError):
    """The target is not a loopback address and remote targets are not allowed."""


def is_loopback_host(host: str) -> bool:
    """Tell whether `host` (a name or an address literal) is a loopback host.

    Names other than `localhost` are not resolved: a name that resolves to
    127.0.0.1 today may not tomorrow, so only address literals and the
    standard loopback names count.
    """
    name = host.strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_target(url: str | None, *, allow_remote: bool) -> str:
    """Return the target URL, or raise RemoteTargetError naming the problem."""
    if not url:
        raise RemoteTargetError(
            "No target host: pass --host http://127.0.0.1:PORT of a server you started."
        )
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RemoteTargetError(
            f"Invalid target host {url!r}: expected http://HOST:PORT."
        )
    if not allow_remote and not is_loopback_host(parts.hostname):
        raise RemoteTargetError(
            f"The target {parts.hostname!r} is not a loopback address. The kit "
            "loads only servers on this machine; pass --allow-remote-host to "
            "load a server you run elsewhere and are allowed to load."
        )
    return url
