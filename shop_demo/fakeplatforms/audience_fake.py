"""The one base of the audience stand-ins (shop_demo/fakeplatforms/audience_meta.py, audience_pinterest.py,
audience_google.py, audience_tiktok.py): a threaded HTTP server on 127.0.0.1 with its own port, faults
(status, body, Retry-After, hang) matched by request, poisoned values that a platform refuses as invalid
entries, and a log of every request received. Meta and Pinterest answer from parsed JSON (``handle``);
Google and TikTok read the raw body (multipart files, OAuth forms) through ``RawBodyFake.route``.
"""
from __future__ import annotations

import json
import re
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from shop_demo.fakeplatforms.common import QuietHandler, serve_in_background, shut_down

HEX64 = re.compile(r"^[0-9a-f]{64}$")


class Invalid(ValueError):
    """A request the real platform would refuse as invalid (answered by the fake's ``error(400, ...)``)."""


@dataclass(frozen=True)
class Answer:
    """A raw-body fake's answer: status, JSON payload and extra headers."""

    status: int
    payload: Any
    headers: tuple[tuple[str, str], ...] = ()


class Refused(Exception):
    """An answer other than 2xx, in the platform's own error format."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body


@dataclass
class Fault:
    match: str  # substring of "METHOD /path" this fault applies to ("" = any request)
    status: int = 500
    body: Any = None
    retry_after: str | None = None
    hang: float = 0.0


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int = 0
    answer: Any = None
    raw: bytes = b""


@dataclass
class AudienceFake:
    """The shared part; subclasses implement ``handle`` (route, auth, schema, hashing, batch limits)."""

    requests: list[Request] = field(default_factory=list)
    faults: deque[Fault] = field(default_factory=deque)
    poisoned: dict[str, str] = field(default_factory=dict)  # identifier -> the platform's message refusing it
    hanging: int = 0

    def __post_init__(self) -> None:
        self.lock = threading.RLock()
        self.server: ThreadingHTTPServer | None = None

    # -- control -----------------------------------------------------------------------------
    def fail(self, status: int, *, match: str = "", times: int = 1, body: Any = None, retry_after: str | None = None) -> None:
        """Answer the next ``times`` requests matching ``match`` ("PATCH /v5/...") with ``status``."""
        for _ in range(times):
            self.faults.append(Fault(match, status, body, retry_after))

    def hang(self, *, match: str = "", seconds: float = 5.0, times: int = 1) -> None:
        """Leave the next ``times`` matching requests unanswered for ``seconds``."""
        for _ in range(times):
            self.faults.append(Fault(match, hang=seconds))

    def poison(self, value: str, message: str) -> None:
        """Refuse (400) any request carrying ``value``, as the platform refuses an invalid record."""
        self.poisoned[value] = message

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()
            self.faults.clear()
            self.poisoned.clear()
            self.hanging = 0
            self.reset_state()

    def reset_state(self) -> None:
        """Forget the audiences the platform holds."""

    def calls(self, method: str, pattern: str) -> list[Request]:
        """Answered requests whose method is ``method`` and path matches the regex ``pattern``."""
        with self.lock:
            return [r for r in self.requests if r.method == method and re.fullmatch(pattern, r.path)]

    def calls_to(self, fragment: str) -> list[Request]:
        """Answered requests whose path contains ``fragment`` (any method)."""
        with self.lock:
            return [r for r in self.requests if fragment in r.path]

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> AudienceFake:
        handler = type("Handler", (_Handler,), {"fake": self})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)  # a port of its own
        serve_in_background(self.server)
        return self

    def stop(self) -> None:
        shut_down(self.server)

    # -- serving -----------------------------------------------------------------------------
    def take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.match in f"{method} {path}":
                    self.faults.remove(fault)
                    return fault
        return None

    def error(self, status: int, message: str, **extra: Any) -> Refused:
        """The platform's error answer (subclasses: its format)."""
        return Refused(status, {"message": message, **extra})

    def check_poison(self, values: list[str]) -> None:
        for value in values:
            if value in self.poisoned:
                raise self.error(400, self.poisoned[value])

    def handle(self, method: str, path: str, query: dict[str, str], headers: Any, body: Any) -> tuple[int, Any]:
        raise NotImplementedError

    def respond(self, request: Request, headers: Any) -> tuple[int, Any, dict[str, str]]:
        """(status, answer, extra headers) for a request no fault took; ``handle``'s refusals in the platform's format."""
        try:
            status, answer = self.handle(request.method, request.path, request.query, headers, request.body)
        except Refused as exc:
            status, answer = exc.status, exc.body
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            status, answer = 400, self.error(400, str(exc)).body
        return status, answer, {}


class RawBodyFake(AudienceFake):
    """A stand-in that reads the raw body itself (``route``); started when made. ``Invalid`` is answered by ``invalid``."""

    def __init__(self) -> None:
        super().__init__()
        self.start()

    def route(self, method: str, path: str, headers: Any, raw: bytes) -> Answer:
        raise NotImplementedError

    def invalid(self, message: str) -> Answer:
        """The platform's answer to an invalid request."""
        return Answer(400, self.error(400, message).body)

    def error(self, status: int, message: str, **extra: Any) -> Refused:
        return Refused(status, {"error": {"code": status, "message": message, **extra}})

    def respond(self, request: Request, headers: Any) -> tuple[int, Any, dict[str, str]]:
        try:
            with self.lock:
                answer = self.route(request.method, request.path, headers, request.raw)
        except Invalid as exc:
            answer = self.invalid(str(exc))
        return answer.status, answer.payload, dict(answer.headers)


def json_body(raw: bytes) -> dict[str, Any]:
    """The request's JSON object, or ``Invalid``."""
    try:
        body = json.loads(raw or b"null")
    except ValueError:
        raise Invalid("the body is not JSON") from None
    if not isinstance(body, dict):
        raise Invalid("the body is not a JSON object")
    return body


def hashed(value: Any, where: str, *, empty_ok: bool = False) -> bool:
    """True for a 64-char lowercase hex digest (or "" when ``empty_ok``); else raises ``ValueError`` naming ``where``."""
    if empty_ok and value == "":
        return False
    if not isinstance(value, str) or not HEX64.match(value):
        raise ValueError(f"{where}: {value!r} is not a lowercase SHA-256 hex digest")
    return True


class _Handler(QuietHandler):
    fake: AudienceFake

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        fault = self.fake.take_fault(self.command, parts.path)
        if fault and fault.hang:
            self.leave_unanswered(fault.hang)
            return
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        request = Request(self.command, parts.path, query, body, raw=raw)
        headers: dict[str, str] = {}
        if fault:
            status, answer = fault.status, fault.body if fault.body is not None else self.fake.error(fault.status, "fault").body
            if fault.retry_after:
                headers["Retry-After"] = fault.retry_after
        else:
            status, answer, headers = self.fake.respond(request, self.headers)
        request.status, request.answer = status, answer
        with self.fake.lock:
            self.fake.requests.append(request)
        out = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(out)

    do_GET = do_POST = do_PATCH = do_DELETE = _serve  # noqa: N815 - http.server naming
