"""What the audience stand-ins (audience_google.py, audience_tiktok.py) share: a real HTTP server on
127.0.0.1 that records every request and can be told to answer an error (400, 401, 429 with
Retry-After, 500) or to hang, before its own rules run.
"""
from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HEX64 = re.compile(r"^[0-9a-f]{64}$")


class Invalid(Exception):
    """A request the real platform would refuse."""


@dataclass
class Fault:
    status: int = 500
    body: Any = None
    retry_after: str | None = None
    hang: float = 0.0
    path: str = ""  # only requests whose path contains this


@dataclass(frozen=True)
class Answer:
    status: int
    payload: Any
    headers: tuple[tuple[str, str], ...] = ()


class FakeApi:
    """Subclasses implement ``route(method, path, headers, raw) -> Answer``."""

    def __init__(self) -> None:
        self.faults: deque[Fault] = deque()
        self.requests: list[tuple[str, str, int]] = []  # (method, path, answered status)
        self.lock = threading.RLock()
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the real APIs

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                self.handle_any("POST")

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                self.handle_any("GET")

            def handle_any(self, method: str) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                path = self.path.split("?")[0]
                answer = api.fault_for(path)
                if answer is None:
                    try:
                        with api.lock:
                            answer = api.route(method, path, self.headers, raw)
                    except Invalid as exc:
                        answer = api.invalid(str(exc))
                with api.lock:
                    api.requests.append((method, path, answer.status))
                data = json.dumps(answer.payload).encode()
                try:
                    self.send_response(answer.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in answer.headers:
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (hang): as a real server, nothing to do

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    # -- test controls -------------------------------------------------------------------------------
    def fail(self, status: int, *, body: Any = None, retry_after: str | None = None, times: int = 1, path: str = "") -> None:
        """Answer the next ``times`` requests (whose path contains ``path``) with ``status``."""
        for _ in range(times):
            self.faults.append(Fault(status, body, retry_after, 0.0, path))

    def hang(self, seconds: float, *, times: int = 1, path: str = "") -> None:
        """Leave the next ``times`` requests unanswered for ``seconds`` (longer than the client's timeout)."""
        for _ in range(times):
            self.faults.append(Fault(200, None, None, seconds, path))

    def fault_for(self, path: str) -> Answer | None:
        with self.lock:
            fault = next((f for f in self.faults if f.path in path), None)
            if fault is None:
                return None
            self.faults.remove(fault)
        if fault.hang:
            time.sleep(fault.hang)
        headers = (("Retry-After", fault.retry_after),) if fault.retry_after else ()
        return Answer(fault.status, fault.body if fault.body is not None else self.error_body(fault.status), headers)

    def calls(self, fragment: str) -> list[tuple[str, str, int]]:
        """The recorded requests whose path contains ``fragment``."""
        with self.lock:
            return [r for r in self.requests if fragment in r[1]]

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    # -- for subclasses ------------------------------------------------------------------------------
    def route(self, method: str, path: str, headers: Any, raw: bytes) -> Answer:
        raise NotImplementedError

    def error_body(self, status: int) -> Any:
        return {"error": {"code": status, "message": f"stand-in answered {status}"}}

    def invalid(self, message: str) -> Answer:
        return Answer(400, {"error": {"code": 400, "message": message}})


def json_body(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw or b"null")
    except ValueError:
        raise Invalid("the body is not JSON") from None
    if not isinstance(body, dict):
        raise Invalid("the body is not a JSON object")
    return body
