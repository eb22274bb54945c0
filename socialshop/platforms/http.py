"""HTTP plumbing every capability shares: one kept-alive connection per host, timeouts, proxies,
error mapping to ``PlatformAPIError`` and Retry-After.

Capabilities (platforms/base.py) build their ``ApiCall``s; ``HttpClient`` makes them. The standard
library's client is kept on purpose: it is what the forwarding bench measured (keep-alive, no pool
thread), and ``HTTPS_PROXY``/``HTTP_PROXY``/``NO_PROXY`` are honoured through urllib's own parsing.
"""
from __future__ import annotations

import http.client
import json
import socket
import ssl
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from socialshop.exceptions import SocialshopError

USER_AGENT = "socialshop/1 (+server calls)"


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
class ApiCall:
    """One HTTP request a capability wants made: method, path under its API base, query, headers, body.

    ``body`` is sent as JSON unless ``raw`` bytes (with their own Content-Type header) are given.
    """

    method: str
    path: str
    params: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: Any = None
    raw: bytes | None = None


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta seconds or an HTTP date), None when absent or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


def default_error_flags(status: int, body: Any) -> tuple[bool, bool]:
    """(retryable, auth) for an error answer: 408/429/5xx retry, 401/403 are credential errors."""
    return (status in (408, 429) or status >= 500), status in (401, 403)


def default_error_message(body: Any) -> str:
    """The error text of the common JSON shapes ({"error": {"message"}}, {"error": "..."}, {"message"})."""
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            return str(error.get("message") or error)
        if isinstance(error, str):
            return error
        if body.get("message"):
            return str(body["message"])
    return ""


def proxy_for(url: str) -> str | None:
    """The proxy URL the environment sets for ``url`` (HTTPS_PROXY/HTTP_PROXY), None under NO_PROXY or without one."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if not host or urllib.request.proxy_bypass(host if parts.port is None else f"{host}:{parts.port}"):
        return None
    return urllib.request.getproxies().get(parts.scheme)


class HttpClient:
    """A kept-alive connection to one API base; ``call`` maps every failure to ``PlatformAPIError``.

    ``error_flags`` and ``error_message`` read a platform's error bodies (Meta's Graph error codes,
    TikTok's answer codes); the defaults read the common shapes.
    """

    def __init__(
        self, base_url: str, *, name: str, timeout: float,
        error_flags: Callable[[int, Any], tuple[bool, bool]] = default_error_flags,
        error_message: Callable[[Any], str] = default_error_message,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.name = name
        self.timeout = timeout
        self.error_flags = error_flags
        self.error_message = error_message
        self._conn: http.client.HTTPConnection | None = None
        parts = urlsplit(self.base_url)
        self._scheme, self._host, self._port = parts.scheme, parts.hostname or "", parts.port
        self._prefix = parts.path.rstrip("/")
        self._proxy = proxy_for(self.base_url)

    def close(self) -> None:
        """Close the kept-alive connection."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is not None:
            return self._conn
        if self._proxy:
            proxy = urlsplit(self._proxy if "://" in self._proxy else f"http://{self._proxy}")
            if self._scheme == "https":
                # HTTPS through a proxy: CONNECT tunnel, TLS to the platform's host inside it.
                conn = http.client.HTTPSConnection(proxy.hostname or "", proxy.port or 8080, timeout=self.timeout,
                                                   context=ssl.create_default_context())
                conn.set_tunnel(self._host, self._port or 443)
            else:
                conn = http.client.HTTPConnection(proxy.hostname or "", proxy.port or 8080, timeout=self.timeout)
            self._conn = conn
        elif self._scheme == "https":
            self._conn = http.client.HTTPSConnection(self._host, self._port, timeout=self.timeout,
                                                     context=ssl.create_default_context())
        else:
            self._conn = http.client.HTTPConnection(self._host, self._port, timeout=self.timeout)
        return self._conn

    def _target(self, api_call: ApiCall) -> str:
        target = self._prefix + api_call.path + (("?" + urlencode(api_call.params)) if api_call.params else "")
        if self._proxy and self._scheme == "http":
            # A plain-HTTP proxy takes the absolute URI in the request line.
            netloc = self._host + (f":{self._port}" if self._port else "")
            return f"http://{netloc}{target}"
        return target

    def call(self, api_call: ApiCall) -> tuple[int, Any]:
        """Make ``api_call``; returns (status, the body parsed as JSON, as text, or None) for a 2xx answer.

        Raises ``PlatformAPIError``: retryable for 429 (with Retry-After), 5xx, timeouts and
        connection errors; ``auth`` for 401/403 (or the platform's token codes); otherwise not
        retryable, with the platform's message.
        """
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json", **api_call.headers}
        payload = api_call.raw
        if payload is None and api_call.body is not None:
            payload = json.dumps(api_call.body, separators=(",", ":"), default=str).encode()
            headers.setdefault("Content-Type", "application/json")
        target = self._target(api_call)
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
        retryable, auth = self.error_flags(status, body)
        raise PlatformAPIError(
            self.name, message, status=status, retryable=retryable, auth=auth,
            retry_after=retry_after_seconds(response.getheader("Retry-After")), body=body,
        )

    @staticmethod
    def _parse(raw: bytes) -> Any:
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            return raw[:1000].decode(errors="replace")
