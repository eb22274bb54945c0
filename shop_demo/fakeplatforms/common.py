"""What every fake platform module shares: the demo's test credentials, the refusal exception and the
format checks (hashes, IPs, event times) the platforms document."""
from __future__ import annotations

import ipaddress
import re
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from shop_demo.settings import DEMO_AUDIENCES, stand_in_audience_keys
from shop_demo.settings import SOCIALSHOP as DEMO_SOCIALSHOP

DEMO_PLATFORMS: dict[str, dict[str, Any]] = DEMO_SOCIALSHOP["PLATFORMS"]

HEX64 = re.compile(r"^[0-9a-f]{64}$")

# What the fake expects: the demo's test credentials (shop_demo/settings.py), so a worker subprocess
# running the demo settings with SOCIALSHOP_API_BASE pointed here is accepted too.
_TEST_KEYS = ("test_event_code", "test_mode", "api_base", "script_url")
CREDENTIALS: dict[str, dict[str, Any]] = {
    slug: {k: v for k, v in values.items() if k not in _TEST_KEYS and k not in stand_in_audience_keys(slug)}
    for slug, values in DEMO_PLATFORMS.items()
}
# What the audience stand-ins (audience_*.py) accept: the demo's audience-upload credentials.
AUDIENCE_CREDENTIALS: dict[str, dict[str, str]] = DEMO_AUDIENCES
# Test event codes the fake accepts (Meta and TikTok send them in the body).
TEST_CODES: dict[str, str] = {s: DEMO_PLATFORMS[s]["test_event_code"] for s in ("meta", "tiktok")}


class Invalid(Exception):
    """A request the real platform would refuse (400)."""


@dataclass
class Fault:
    status: int = 500
    body: Any = None
    retry_after: str | None = None
    hang: float = 0.0


def _hashed_list(value: Any, where: str) -> None:
    values = value if isinstance(value, list) else [value]
    for v in values:
        if not isinstance(v, str) or not HEX64.match(v):
            raise Invalid(f"{where}: {v!r} is not a lowercase SHA-256 hex digest")


def _ip(value: Any, where: str) -> None:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        raise Invalid(f"{where}: {value!r} is not an IP address") from None


def _time(value: Any, where: str, *, max_age: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise Invalid(f"{where}: event_time must be unix seconds, got {value!r}")
    now = time.time()
    if value > now + 60 or value < now - max_age:
        raise Invalid(f"{where}: event_time {value} is outside the accepted window")


def serve_in_background(server: ThreadingHTTPServer) -> None:
    """Serve ``server`` from a daemon thread (each request in a thread of its own) until ``shut_down``."""
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()


def shut_down(server: ThreadingHTTPServer | None) -> None:
    """Stop a server started by ``serve_in_background`` and free its port (nothing when it never started)."""
    if server is not None:
        server.shutdown()
        server.server_close()


class QuietHandler(BaseHTTPRequestHandler):
    """What every stand-in's request handler shares: keep-alive HTTP/1.1, no per-request log lines."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; without TCP_NODELAY, Nagle + delayed ACK add 40 ms a call.
    disable_nagle_algorithm = True

    fake: Any  # the stand-in serving this request: it has ``lock`` and ``hanging``

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence per-request logging
        return

    def leave_unanswered(self, seconds: float) -> None:
        """A "hang" fault: count it on the stand-in, keep the client waiting ``seconds``, then drop the connection."""
        with self.fake.lock:
            self.fake.hanging += 1
        time.sleep(seconds)
        self.close_connection = True
