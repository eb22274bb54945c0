"""A local stand-in for the four platform APIs on 127.0.0.1, written from their documented request formats.

It checks each request's endpoint, authentication, payload schema, hashing format and batch size the
way reference/platforms.md describes (one module per platform beside this one), records the accepted
events, and can be told to answer 400, 401, 429 (with Retry-After), 500 or to hang. It also serves
stand-in browser scripts (shop_demo/fakepixels.py). ``manage.py demo`` runs it so the demo works
offline; the tests use it through tests/fakes/platforms.py. With ``start_audiences`` it also answers the
four audience APIs, passing those requests on to the audience stand-ins (audience_*.py, each on a port of
its own, which the audience tests use directly).
"""
from __future__ import annotations

import http.client
import json
import re
import threading
import time
from collections import defaultdict, deque
from datetime import datetime, timezone
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit


from shop_demo.fakeplatforms.common import (
    CREDENTIALS, TEST_CODES, Fault, Invalid, QuietHandler, serve_in_background, shut_down,
)
from shop_demo.fakeplatforms.google import check_google
from shop_demo.fakeplatforms.meta import check_meta
from shop_demo.fakeplatforms.meta_catalog import FakeMetaCatalog
from shop_demo.fakeplatforms.pinterest import check_pinterest
from shop_demo.fakeplatforms import reporting
from shop_demo.fakeplatforms.tiktok import check_tiktok

__all__ = ["CREDENTIALS", "TEST_CODES", "FakePlatforms", "Fault", "Invalid"]

PORTS = range(8300, 8400)  # the tests' port range on the shared machine
# The audience APIs' paths (reference/platforms.md), passed on to that platform's audience stand-in. Meta's
# ``/{id}`` (an audience's rule) is passed on only for an audience that stand-in made: a product set has the same path.
AUDIENCE_PATHS = {
    "meta": re.compile(r"/v\d+\.\d+/(act_\d+/customaudiences|\d+/users)"),
    "pinterest": re.compile(r"/v5/ad_accounts/\w+/(customer_lists|audiences)(/\d+)?"),
    "google": re.compile(r"/datamanager/token|/v1/.+"),
    "tiktok": re.compile(r"/open_api/v1\.3/dmp/custom_audience/.+"),
}
META_OBJECT = re.compile(r"/v\d+\.\d+/(\d+)")
LOG_KEEP = 500  # requests kept in memory for ``log``


class FakePlatforms:
    """The fake API server. ``url`` is the api_base for every platform; ``received[slug]`` the accepted events."""

    def __init__(self, *, log_path: Path | None = None) -> None:
        self.log_path = log_path  # when set, every request is appended there as one JSON line
        self.log: deque[dict[str, Any]] = deque(maxlen=LOG_KEEP)
        self.received: dict[str, list[dict]] = defaultdict(list)
        self.requests: list[tuple[str, int, int]] = []  # (slug, events in the request, answered status)
        self.test_events: dict[str, list[dict]] = defaultdict(list)
        self.hanging = 0  # requests left unanswered by hang()
        self.beacons: list[dict] = []  # browser stand-in scripts report tag calls here
        self.faults: dict[str, deque[Fault]] = defaultdict(deque)
        self.scripts: dict[str, str] = {}
        self.meta_catalog = FakeMetaCatalog()  # product sets (shop_demo/fakeplatforms/meta_catalog.py)
        self.audiences: dict[str, Any] = {}  # slug -> its audience stand-in, once ``start_audiences`` ran
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    # -- control ---------------------------------------------------------------------------
    def fail(self, slug: str, status: int, *, times: int = 1, body: Any = None, retry_after: str | None = None) -> None:
        """Answer the next ``times`` requests for ``slug`` with ``status`` (and the platform-style body)."""
        for _ in range(times):
            self.faults[slug].append(Fault(status=status, body=body, retry_after=retry_after))

    def hang(self, slug: str, *, seconds: float = 30.0, times: int = 1) -> None:
        """Never answer the next ``times`` requests for ``slug`` (until ``seconds`` pass); nothing is recorded."""
        for _ in range(times):
            self.faults[slug].append(Fault(hang=seconds))

    def event_ids(self, slug: str) -> list[str]:
        return [str(ev.get("event_id") or (ev.get("params") or {}).get("event_id")) for ev in self.received[slug]]

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def settings(self, *slugs: str, test_codes: bool = False, **extra: Any) -> dict[str, dict[str, Any]]:
        """A SOCIALSHOP['PLATFORMS'] value pointing ``slugs`` (default: all four) at this server.

        ``test_codes`` adds the Meta/TikTok test event codes (their test mode); ``extra`` goes into every entry.
        """
        out = {s: {**CREDENTIALS[s], "api_base": self.url, "timeout": 2, **extra} for s in (slugs or CREDENTIALS)}
        if test_codes:
            for slug, code in TEST_CODES.items():
                if slug in out:
                    out[slug]["test_event_code"] = code
        return out

    def record(self, kind: str, slug: str, path: str, *, events: int = 0, status: int = 200, detail: str = "") -> None:
        """Note one request (secrets left out: the path only, never the query) in ``log`` and ``log_path``."""
        entry = {"at": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S"), "kind": kind, "platform": slug,
                 "path": path, "events": events, "status": status, "detail": detail[:300]}
        with self.lock:
            self.log.append(entry)
            if self.log_path is not None:
                with self.log_path.open("a", encoding="utf-8") as out:
                    out.write(json.dumps(entry) + "\n")

    def start(self, *, port: int | None = None) -> FakePlatforms:
        """Serve on ``port`` (0: any free port) or, by default, the first free port of ``PORTS``."""
        handler = type("Handler", (_Handler,), {"fake": self})
        for candidate in (PORTS if port is None else (port,)):
            try:
                self.server = ThreadingHTTPServer(("127.0.0.1", candidate), handler)
                break
            except OSError:
                continue
        else:
            raise RuntimeError(f"no free port in {PORTS.start}-{PORTS.stop - 1} for the fake platform server" if port is None
                               else f"port {port} is in use; the fake platform server cannot start")
        serve_in_background(self.server)
        return self

    def stop(self) -> None:
        shut_down(self.server)
        for audiences in self.audiences.values():
            audiences.stop()

    def start_audiences(self) -> FakePlatforms:
        """Answer the audience APIs too: start the four audience stand-ins behind this server."""
        from shop_demo.fakeplatforms.audience_google import FakeGoogleAudiences
        from shop_demo.fakeplatforms.audience_meta import FakeMetaAudiences
        from shop_demo.fakeplatforms.audience_pinterest import FakePinterestAudiences
        from shop_demo.fakeplatforms.audience_tiktok import FakeTikTokAudiences

        self.audiences = {"meta": FakeMetaAudiences().start(), "pinterest": FakePinterestAudiences().start(),
                          "google": FakeGoogleAudiences(), "tiktok": FakeTikTokAudiences()}  # the last two start when made
        return self

    def audience_target(self, method: str, path: str) -> str:
        """The slug whose audience stand-in answers ``method path``, or "" when none does."""
        for slug, pattern in AUDIENCE_PATHS.items():
            if slug in self.audiences and pattern.fullmatch(path):
                return slug
        meta = self.audiences.get("meta")
        if meta is not None and method == "POST" and (m := META_OBJECT.fullmatch(path)):
            with meta.lock:
                return "meta" if m.group(1) in meta.audiences else ""
        return ""

    # -- routing ---------------------------------------------------------------------------
    def route(self, path: str, query: dict[str, str], headers: Any) -> tuple[str, str]:
        """(slug, kind) for an API path; kind is the auth outcome 'ok' or 'bad-auth'."""
        c = CREDENTIALS
        if m := re.match(r"^/v\d+\.\d+/(\w+)/product_sets$", path):
            if query.get("access_token") != c["meta"]["access_token"]:
                return "meta", "bad-auth"
            return "meta", "ok" if m.group(1) == c["meta"].get("catalog_id") else "bad-object"
        if re.match(r"^/v\d+\.\d+/\d+$", path):  # a product set by id
            return "meta", "ok" if query.get("access_token") == c["meta"]["access_token"] else "bad-auth"
        if m := re.match(r"^/v\d+\.\d+/(\w+)/events$", path):
            ok = m.group(1) == c["meta"]["pixel_id"] and query.get("access_token") == c["meta"]["access_token"]
            return "meta", "ok" if ok else "bad-auth"
        if m := re.match(r"^/v5/ad_accounts/(\w+)/events$", path):
            ok = m.group(1) == c["pinterest"]["ad_account_id"] and headers.get("Authorization") == f"Bearer {c['pinterest']['access_token']}"
            return "pinterest", "ok" if ok else "bad-auth"
        if path == "/open_api/v1.3/event/track/":
            return "tiktok", "ok" if headers.get("Access-Token") == c["tiktok"]["access_token"] else "bad-auth"
        if path in ("/mp/collect", "/debug/mp/collect"):
            ok = query.get("measurement_id") == c["google"]["measurement_id"] and query.get("api_secret") == c["google"]["api_secret"]
            return "google", "ok" if ok else "bad-auth"
        return "", "unknown"

    def answer(self, slug: str, path: str, query: dict[str, str], body: Any) -> tuple[int, Any]:
        """Validate and record; returns (status, JSON body) the way the platform answers."""
        if slug == "meta" and path.endswith("/product_sets"):
            return self.meta_catalog.create(body)
        if slug == "meta" and re.match(r"^/v\d+\.\d+/\d+$", path):
            return self.meta_catalog.update(path.rsplit("/", 1)[1], body)
        if slug == "meta":
            events = check_meta(body)
            test = body.get("test_event_code")
            if test is not None and test != TEST_CODES["meta"]:
                raise Invalid(f"test_event_code {test!r} is not this pixel's")
            self._store(slug, events, test=bool(test))
            return 200, {"events_received": len(events), "messages": [], "fbtrace_id": "AfakeTrace"}
        if slug == "pinterest":
            events = check_pinterest(body)
            self._store(slug, events, test=query.get("test") == "true")
            return 200, {"num_events_received": len(events), "num_events_processed": len(events),
                         "events": [{"status": "processed", "error_message": None, "warning_message": None} for _ in events]}
        if slug == "tiktok":
            events = check_tiktok(body, CREDENTIALS["tiktok"]["pixel_code"])
            test = body.get("test_event_code")
            if test is not None and test != TEST_CODES["tiktok"]:
                raise Invalid(f"test_event_code {test!r} is not this pixel's")
            self._store(slug, events, test=bool(test))
            return 200, {"code": 0, "message": "OK", "request_id": "fake-request", "data": {}}
        events = check_google(body)
        if path.startswith("/debug/"):
            self._store(slug, events, test=True)
            return 200, {"validationMessages": []}
        self._store(slug, events, test=False)
        return 204, None

    def _store(self, slug: str, events: list[dict], *, test: bool) -> None:
        with self.lock:
            (self.test_events if test else self.received)[slug].extend(events)


def _members(raw: bytes) -> int:
    """Members in an audience upload's JSON body (Meta's payload rows, Pinterest's records, Google's
    audienceMembers); 0 for anything else (TikTok sends a file)."""
    try:
        body = json.loads(raw or b"null")
    except ValueError:
        return 0
    if not isinstance(body, dict):
        return 0
    payload = body.get("payload")
    rows = (payload.get("data") if isinstance(payload, dict) else None) or body.get("records") or body.get("audienceMembers")
    return len(rows) if isinstance(rows, list) else 0


def auth_error(slug: str) -> tuple[int, Any]:
    """Each platform's answer to a wrong or revoked credential."""
    if slug == "meta":
        return 400, {"error": {"message": "Error validating access token: The session has been invalidated.",
                               "type": "OAuthException", "code": 190, "fbtrace_id": "AfakeTrace"}}
    if slug == "pinterest":
        return 401, {"code": 2, "message": "Authentication failed."}
    if slug == "tiktok":
        return 200, {"code": 40105, "message": "Access token is incorrect or has been revoked.", "request_id": "fake"}
    # GA4 MP answers 2xx even for a wrong api_secret; the stand-in is stricter so the test can see it.
    return 403, {"error": "api_secret is not valid for this measurement_id"}


def error_body(slug: str, status: int, message: str) -> Any:
    """An error body in the platform's own format."""
    if slug == "meta":
        return {"error": {"message": message, "type": "OAuthException" if status == 401 else "GraphMethodException",
                          "code": 190 if status == 401 else (4 if status == 429 else 100), "fbtrace_id": "AfakeTrace"}}
    if slug == "tiktok":
        return {"code": 40002 if status == 400 else 50000, "message": message, "request_id": "fake"}
    if slug == "google":
        return {"error": message}
    return {"code": status, "message": message}


class _Handler(QuietHandler):
    fake: FakePlatforms

    def _send(self, status: int, body: Any, *, headers: dict[str, str] | None = None, content_type: str = "application/json") -> None:
        raw = b"" if body is None else (body.encode() if isinstance(body, str) else json.dumps(body).encode())
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(raw)))
        self.send_header("Access-Control-Allow-Origin", "*")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        parts = urlsplit(self.path)
        if parts.path in self.fake.scripts:
            self._send(200, self.fake.scripts[parts.path], content_type="application/javascript")
            return
        if parts.path.startswith("/beacon/"):
            beacon = {"platform": parts.path.split("/")[2], **{k: v[0] for k, v in parse_qs(parts.query).items()}}
            with self.fake.lock:
                self.fake.beacons.append(beacon)
            self.fake.record("browser", beacon["platform"], parts.path, events=1, status=204, detail=str(beacon.get("ev", "")))
            self._send(204, None)
            return
        if self._report("GET", parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()}, b""):
            return
        if self._pass_on("GET", b""):
            return
        self._send(404, {"error": "not found"})

    def _pass_on(self, method: str, raw: bytes) -> bool:
        """Hand an audience API request to its stand-in and relay the answer; False when it is not one."""
        path = urlsplit(self.path).path
        slug = self.fake.audience_target(method, path)
        if not slug:
            return False
        port = self.fake.audiences[slug].server.server_address[1]
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection", "content-length")}
            connection.request(method, self.path, body=raw or None, headers=headers)
            answer = connection.getresponse()
            body = answer.read()
        finally:
            connection.close()
        self.fake.record("audience", slug, path, events=_members(raw), status=answer.status,
                         detail=body.decode("utf-8", "replace")[:300])
        extra = {"Retry-After": answer.getheader("Retry-After")} if answer.getheader("Retry-After") else {}
        self._send(answer.status, body.decode("utf-8", "replace"), headers=extra,
                   content_type=answer.getheader("Content-Type") or "application/json")
        return True

    def _audience_only(self) -> None:
        """PATCH and DELETE: only the audience APIs take them here."""
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if not self._pass_on(self.command, raw):
            self._send(404, {"error": f"no such endpoint {urlsplit(self.path).path}"})

    do_PATCH = do_DELETE = _audience_only  # noqa: N815 - http.server naming

    def _report(self, method: str, path: str, query: dict[str, str], raw: bytes) -> bool:
        """Answer a reporting request (shop_demo/fakeplatforms/reporting.py); False when ``path`` is not one."""
        found = reporting.route(method, path, query, self.headers)
        if found is None:
            return False
        slug, authorised = found
        with self.fake.lock:
            fault = self.fake.faults[slug].popleft() if self.fake.faults[slug] else None
        headers: dict[str, str] = {}
        if fault and fault.hang:
            time.sleep(fault.hang)
            self.close_connection = True
            return True
        if fault:
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            status, answer = fault.status, fault.body if fault.body is not None else error_body(slug, fault.status, "report failed")
        elif not authorised:
            status, answer = reporting.refused(slug)
        else:
            try:
                status, answer = reporting.answer(slug, path, query, raw)
            except Invalid as exc:
                status, answer = 400, error_body(slug, 400, str(exc))
        self.fake.record("report", slug, path, status=status, detail=json.dumps(answer)[:300])
        self._send(status, answer, headers=headers)
        return True

    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self._report("POST", parts.path, query, raw) or self._pass_on("POST", raw):
            return
        slug, auth = self.fake.route(parts.path, query, self.headers)
        if not slug:
            self._send(404, {"error": f"no such endpoint {parts.path}"})
            return
        with self.fake.lock:
            fault = self.fake.faults[slug].popleft() if self.fake.faults[slug] else None
        if fault and fault.hang:
            self.leave_unanswered(fault.hang)
            return
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            body = None
        n = len((body or {}).get("data") or (body or {}).get("events") or []) if isinstance(body, dict) else 0
        if fault:
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            message = {400: "Invalid parameter", 401: "Invalid OAuth access token", 429: "Too many calls",
                       500: "An unexpected error has occurred"}.get(fault.status, "error")
            status, answer = fault.status, fault.body if fault.body is not None else error_body(slug, fault.status, message)
            self.fake.requests.append((slug, n, status))
            self.fake.record("server", slug, parts.path, events=n, status=status, detail=json.dumps(answer)[:300])
            self._send(status, answer, headers=headers)
            return
        if auth == "bad-object":  # Meta: an id the token cannot see (100/33), e.g. another catalogue
            status, answer = 400, {"error": {"message": "Unsupported post request. Object does not exist, cannot be loaded "
                                             "due to missing permissions, or does not support this operation",
                                             "type": "GraphMethodException", "code": 100, "error_subcode": 33,
                                             "fbtrace_id": "AfakeTrace"}}
        elif auth != "ok":
            status, answer = auth_error(slug)
        elif self.headers.get("Content-Type", "").split(";")[0] != "application/json":
            status, answer = 400, error_body(slug, 400, "Content-Type must be application/json")
        else:
            try:
                status, answer = self.fake.answer(slug, parts.path, query, body)
            except (Invalid, AttributeError, TypeError) as exc:
                status, answer = 400, error_body(slug, 400, str(exc))
                if slug == "tiktok":
                    status = 200  # TikTok reports request errors in the body
        self.fake.requests.append((slug, n, status))
        self.fake.record("server", slug, parts.path, events=n, status=status,
                         detail="" if answer is None else json.dumps(answer)[:300])
        self._send(status, answer)
