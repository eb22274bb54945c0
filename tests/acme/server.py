"""Acme's stand-in API on 127.0.0.1: events at POST /v1/events, product updates at POST /catalog/v1/updates.

Each endpoint checks its own bearer token and records what it accepted; ``fail(path, status)``
makes one endpoint answer an error until ``heal``.
"""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# Tokens each endpoint accepts (a second catalog token stands for one the store pasted after a refusal).
TOKENS = {"/v1/events": {"acme-events-token"}, "/catalog/v1/updates": {"acme-catalog-token", "acme-catalog-token-2"}}


class AcmeServer:
    def __init__(self) -> None:
        self.received: dict[str, list[Any]] = {path: [] for path in TOKENS}
        self.faults: dict[str, int] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"null")
                path = self.path.split("?")[0]
                if path not in TOKENS:
                    return self.answer(404, {"error": f"no endpoint {path}"})
                if path in server.faults:
                    return self.answer(server.faults[path], {"error": {"message": "refused by the stand-in"}})
                if self.headers.get("Authorization", "").removeprefix("Bearer ") not in TOKENS[path]:
                    return self.answer(401, {"error": {"message": "invalid token"}})
                items = body.get("data") if isinstance(body, dict) else None
                if not isinstance(items, list) or not items or len(items) > 50:
                    return self.answer(400, {"error": {"message": "data must hold 1..50 items"}})
                server.received[path].extend(items)
                return self.answer(200, {"accepted": len(items)})

            def answer(self, status: int, payload: Any) -> None:
                raw = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def fail(self, path: str, status: int) -> None:
        self.faults[path] = status

    def heal(self) -> None:
        self.faults.clear()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
