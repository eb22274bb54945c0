"""The platform contract (``Platform``), its HTTP plumbing (``HttpPlatform``) and the records that cross it.

Platforms never see our models: tracking/forwarding.py turns an Event into a ``ServerEvent``. Each
platform module (meta.py, pinterest.py, tiktok.py, google.py) holds its facts as class data.
"""
from __future__ import annotations

import abc
import http.client
import ipaddress
import json
import socket
import ssl
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar
from urllib.parse import urlencode, urlsplit

from socialshop.exceptions import ConfigurationError, SocialshopError, UnsupportedFeature

USER_AGENT = "socialshop/1 (+server events)"


def valid_ip(value: str) -> str:
    """The address when it parses as an IP, else "" (IP_HANDLING='hash' stores a digest, never sent)."""
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return ""


def hashed_user_arrays(event: "ServerEvent", keys: Mapping[str, str]) -> dict[str, Any]:
    """Meta/Pinterest-style ``user_data``: each hashed value as a one-item array under the
    platform's key (``keys``: ours -> theirs), plus the unhashed client IP and user agent."""
    user: dict[str, Any] = {theirs: [event.user_data[ours]] for ours, theirs in keys.items() if event.user_data.get(ours)}
    ip = valid_ip(event.ip)
    if ip:
        user["client_ip_address"] = ip
    if event.user_agent:
        user["client_user_agent"] = event.user_agent
    return user


class PlatformAPIError(SocialshopError):
    """A platform refused or failed a call.

    ``retryable``: 429, 5xx, timeouts and connection errors (send again later). ``auth``: the
    credentials were refused (401/403 or the platform's token error): stop until they change.
    ``message`` is the platform's own error text; ``retry_after`` seconds when it said so.
    """

    def __init__(
        self, platform: str, message: str, *, status: int | None = None, retryable: bool = False,
        auth: bool = False, retry_after: float | None = None, body: Any = None,
    ) -> None:
        self.platform = platform
        self.message = message
        self.status = status
        self.retryable = retryable
        self.auth = auth
        self.retry_after = retry_after
        self.body = body
        where = f"HTTP {status}" if status is not None else "no answer"
        super().__init__(f"{platform}: {where}: {message}")


@dataclass(frozen=True, slots=True)
class ServerEvent:
    """One event as the platforms need it; ``user_data`` holds only hashes (platforms/hashing.py)."""

    event_id: str
    name: str
    time: int
    url: str = ""
    referrer: str = ""
    visitor_id: str = ""
    ip: str = ""
    user_agent: str = ""
    content_ids: tuple[str, ...] = ()
    contents: tuple[Mapping[str, Any], ...] = ()
    value: Decimal | None = None
    currency: str = ""
    order_id: str = ""
    search_string: str = ""
    user_data: Mapping[str, str] = field(default_factory=dict)
    click_ids: Mapping[str, str] = field(default_factory=dict)
    browser_ids: Mapping[str, str] = field(default_factory=dict)
    source: str = "browser"  # browser, pixel, server or simulated (tracking's EventSource)


@dataclass(frozen=True, slots=True)
class ApiCall:
    """One HTTP request a platform wants made: method, path under ``api_base``, query, headers, JSON body."""

    method: str
    path: str
    params: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: Any = None


@dataclass(frozen=True, slots=True)
class SendResult:
    """The platform's answer to one batch: how many it took, its body, and per-event refusals (event_id -> message)."""

    platform: str
    sent: int
    response: Any
    status: int
    rejected: Mapping[str, str] = field(default_factory=dict)


class Platform(abc.ABC):
    """An ad platform. Class attributes are its facts; ``config`` is ``SOCIALSHOP['PLATFORMS'][slug]``."""

    slug: ClassVar[str]
    name: ClassVar[str]
    default_api_base: ClassVar[str]
    # our event name -> the platform's server event name; absent means "not mapped" (skipped).
    event_names: ClassVar[Mapping[str, str]]
    # our event name -> the browser tag's event name (pixels.js reads it through browser.py).
    browser_event_names: ClassVar[Mapping[str, str]]
    default_script_url: ClassVar[str]
    # Settings keys needed to send server events (checks.py names each missing one).
    required_settings: ClassVar[tuple[str, ...]]
    # Settings key holding the id the browser tag needs; the tag is left out without it.
    browser_id_setting: ClassVar[str]
    # Further keys this platform reads (checks.py flags any other key as a typo).
    optional_settings: ClassVar[tuple[str, ...]] = ()
    # Keys every platform entry accepts.
    common_settings: ClassVar[tuple[str, ...]] = ("api_base", "script_url", "timeout", "enabled")
    # Events per request the API takes.
    batch_limit: ClassVar[int]
    # Oldest event the API accepts, in seconds.
    max_event_age: ClassVar[int]
    # At least one of these groups of user_data/identity keys must be present, or the event is skipped.
    required_identity: ClassVar[tuple[frozenset[str], ...]] = ()
    # Capabilities this platform has ("server_events", "test_events", "browser_tag", ...).
    features: ClassVar[frozenset[str]]
    default_timeout: ClassVar[float] = 10.0

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = dict(config)

    @property
    def api_base(self) -> str:
        return str(self.config.get("api_base") or self.default_api_base).rstrip("/")

    @property
    def timeout(self) -> float:
        return float(self.config.get("timeout") or self.default_timeout)

    def setting(self, key: str) -> Any:
        """A required settings value, or ``ConfigurationError`` naming the full key."""
        value = self.config.get(key)
        if value in (None, ""):
            raise ConfigurationError(f"SOCIALSHOP['PLATFORMS']['{self.slug}']['{key}'] is not set")
        return value

    def require(self, feature: str) -> None:
        """Raise ``UnsupportedFeature`` naming this platform and ``feature`` when it lacks it."""
        if feature not in self.features:
            raise UnsupportedFeature(self.name, feature)

    def skip_reason(self, event: ServerEvent, *, now: float) -> str | None:
        """Why ``event`` must not be sent to this platform (simulated, not mapped, too old, no identity), or None."""
        if event.source == "simulated":
            return "simulated traffic: demo and benchmark events never reach a platform"
        if event.name not in self.event_names:
            return f"not mapped: {self.name} has no server event for {event.name}"
        age = now - event.time
        if age > self.max_event_age:
            return f"outside time window: {int(age // 3600)} h old, {self.name} accepts {self.max_event_age // 3600} h"
        if self.required_identity:
            present = {k for k, v in self.identity(event).items() if v}
            if not any(group <= present for group in self.required_identity):
                wanted = " or ".join("+".join(sorted(g)) for g in self.required_identity)
                return f"no identifier: {self.name} needs {wanted}"
        return None

    def identity(self, event: ServerEvent) -> dict[str, str]:
        """Every identifier the event carries, keyed as in ``required_identity``."""
        return {**event.user_data, "client_ip_address": event.ip, "client_user_agent": event.user_agent,
                **{k: v for k, v in event.browser_ids.items() if v}, **{k: v for k, v in event.click_ids.items() if v}}

    def batches(self, events: Sequence[ServerEvent]) -> list[list[ServerEvent]]:
        """Split ``events`` into request-sized groups (``batch_limit``); platforms may group otherwise."""
        return [list(events[i:i + self.batch_limit]) for i in range(0, len(events), self.batch_limit)]

    @abc.abstractmethod
    def send_events(self, events: Sequence[ServerEvent], *, test: bool = False) -> SendResult:
        """Send one batch (at most ``batch_limit`` events, already filtered by ``skip_reason``).

        ``test`` sends in the platform's test mode. Returns the platform's answer; raises
        ``PlatformAPIError`` (retryable or not, auth or not) when the platform refuses or fails.
        """

    @abc.abstractmethod
    def browser_config(self) -> dict[str, Any]:
        """What the browser tag needs (ids, script URL, event table) as JSON-ready data; {} without an id."""


class HttpPlatform(Platform):
    """A platform reached over HTTPS with JSON: keep-alive connection, timeouts and error mapping."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        super().__init__(config)
        self._conn: http.client.HTTPConnection | None = None

    def close(self) -> None:
        """Close the kept-alive connection."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            parts = urlsplit(self.api_base)
            if parts.scheme == "https":
                self._conn = http.client.HTTPSConnection(
                    parts.hostname or "", parts.port, timeout=self.timeout, context=ssl.create_default_context()
                )
            else:
                self._conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=self.timeout)
        return self._conn

    def call(self, api_call: ApiCall) -> tuple[int, Any]:
        """Make ``api_call``; returns (status, parsed JSON or None) for a 2xx answer.

        Raises ``PlatformAPIError``: retryable for 429 (with Retry-After), 5xx, timeouts and
        connection errors; ``auth`` for 401/403; otherwise not retryable, with the platform's message.
        """
        prefix = urlsplit(self.api_base).path.rstrip("/")
        target = prefix + api_call.path + (("?" + urlencode(api_call.params)) if api_call.params else "")
        payload = json.dumps(api_call.body, separators=(",", ":"), default=str).encode() if api_call.body is not None else None
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json", **api_call.headers}
        if payload is not None:
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            conn = self._connection()
            try:
                conn.request(api_call.method, target, body=payload, headers=headers)
                response = conn.getresponse()
                raw = response.read()
                break
            except (TimeoutError, socket.timeout) as exc:
                self.close()
                raise PlatformAPIError(self.name, f"no answer within {self.timeout:g} s", retryable=True) from exc
            except (ConnectionError, http.client.HTTPException, OSError) as exc:
                self.close()
                # A kept-alive connection the server closed: reconnect once before calling it down.
                if attempt == 2 or isinstance(exc, ConnectionRefusedError):
                    raise PlatformAPIError(self.name, f"connection failed: {exc}", retryable=True) from exc
        if response.getheader("Connection", "").lower() == "close":
            self.close()
        body = self._parse(raw)
        status = response.status
        if 200 <= status < 300:
            return status, body
        message = self.error_message(body) or raw[:300].decode(errors="replace") or response.reason
        retry_after = self._retry_after(response.getheader("Retry-After"))
        retryable, auth = self.error_flags(status, body)
        raise PlatformAPIError(
            self.name, message, status=status, retryable=retryable, auth=auth, retry_after=retry_after, body=body,
        )

    def error_flags(self, status: int, body: Any) -> tuple[bool, bool]:
        """(retryable, auth) for an error answer: 408/429/5xx retry, 401/403 are credential errors."""
        return (status in (408, 429) or status >= 500), status in (401, 403)

    @staticmethod
    def _parse(raw: bytes) -> Any:
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            return raw[:1000].decode(errors="replace")

    @staticmethod
    def _retry_after(value: str | None) -> float | None:
        if not value:
            return None
        try:
            return max(0.0, float(value))
        except ValueError:
            from email.utils import parsedate_to_datetime

            try:
                return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
            except (TypeError, ValueError):
                return None

    def error_message(self, body: Any) -> str:
        """The platform's error text from an error body (platforms override for their format)."""
        if isinstance(body, dict):
            error = body.get("error")
            if isinstance(error, dict):
                return str(error.get("message") or error)
            if isinstance(error, str):
                return error
            if body.get("message"):
                return str(body["message"])
        return ""
