"""Outbox drain benchmark: deliveries/s to the fake platform server, our code's share, collector impact.

In one run, on PostgreSQL (DATABASE_URL, default ss_platforms) with the demo settings pointed at the
fake server (tests/fakes/platforms.py, own process, loopback) through SOCIALSHOP_API_BASE:
  1. seed N events (server events, hashed user data) and make their outbox rows (4 platforms each);
  2. drain the first half alone: deliveries/s, every HTTP call recorded;
  3. replay the recorded calls (same batches, bodies pre-serialised) on one keep-alive connection:
     the bare HTTP floor. Our share = 1 - http/drain;
  4. collector req/s (gunicorn, 1 worker, wrk) alone, then while the second half drains.
The last line states the targets and PASS or FAIL: every delivery sent once; the drain at least
``DRAIN_TARGET`` deliveries/s; the collector keeping at least 0.9 of its req/s while the outbox drains.
The our-code share is printed beside them (what to work on next), without a target.

    python bench/forward.py                      # 25,000 events x 4 platforms = 100,000 deliveries
    python bench/forward.py --events 5000 --seconds 5
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode, urlparse, urlsplit

# A store at 10M events a month peaks at 50-100 events/s (docs/scaling.md), 4 platforms each: 400
# deliveries/s. The target is 2.5x that, so one forwarding worker keeps up with the peak and catches up.
DRAIN_TARGET = 1_000
# Forwarding must not take the collector down: it keeps 90 % of its throughput while the outbox drains.
COLLECTOR_TARGET = 0.9

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FAKE = """
import sys, time
sys.path.insert(0, {root!r})
from tests.fakes.platforms import FakePlatforms
fake = FakePlatforms()
fake.start()
print(fake.url, flush=True)
while True:
    time.sleep(3600)
"""

LUA = r'''
counter = 0
function init(args) prefix = RUN .. "-" .. math.random(1, 1000000000) end
function request()
  counter = counter + 1
  local now = os.time()
  local events = {}
  for i = 1, 10 do
    events[i] = string.format('{"event_id":"%s-%d-%d","name":"ViewContent","time":%d,"url":"http://127.0.0.1/p/x/",' ..
      '"content_ids":["SKU-%d"],"value":19.5,"currency":"USD"}', prefix, counter, i, now, i)
  end
  return wrk.format("POST", "/socialshop/collect/", {["Content-Type"] = "text/plain;charset=UTF-8",
    ["User-Agent"] = "Mozilla/5.0 (bench)", ["Cookie"] = "ss_consent=ag.dg.o0; ss_vid=benchvisitor0000000001"},
    '{"events":[' .. table.concat(events, ",") .. ']}')
end
'''

SETTINGS = '''
from shop_demo.settings import *  # noqa: F401,F403
DEBUG = False
ALLOWED_HOSTS = ["*"]
SOCIALSHOP = {**SOCIALSHOP, "COLLECT_RATE_LIMIT_PER_MINUTE": 10**9}
DATABASES["default"]["CONN_MAX_AGE"] = 600
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
'''


def free_port(start: int) -> int:
    for port in range(start, 8400):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise SystemExit("no free port in 8300-8399")


def ensure_database(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    with psycopg.connect(parsed._replace(path="/postgres").geturl(), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def wrk(url: str, seconds: int, tmp: Path) -> subprocess.Popen:
    script = tmp / f"w{time.monotonic_ns()}.lua"
    script.write_text(f'RUN = "b{time.time_ns()}"\n' + LUA)
    return subprocess.Popen(["wrk", "-t", "1", "-c", "4", "-d", f"{seconds}s", "-s", str(script), url + "/socialshop/collect/"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wrk_rps(proc: subprocess.Popen) -> float:
    out, _ = proc.communicate()
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not match:
        raise SystemExit(f"wrk gave no result:\n{out}")
    return float(match.group(1))


def seed(n: int, offset: int) -> None:
    """``n`` shareable server events with hashed user data, 5 per visitor."""
    from datetime import timedelta
    from decimal import Decimal

    from django.utils import timezone

    from socialshop.privacy.hashing import hash_user_data
    from socialshop.tracking.models import Event

    now = timezone.now()
    hashed = [hash_user_data({"email": f"buyer{i}@example.com", "phone": f"+1 650 555 {i:04d}", "country": "US"}) for i in range(1000)]
    rows = []
    for i in range(offset, offset + n):
        rows.append(Event(
            event_id=f"bench-{i}", name="AddToCart", occurred_at=now - timedelta(minutes=5), received_at=now,
            source="server", visitor_id=f"v{i // 5}", may_share=True, url="https://shop.example.com/p/x/",
            content_ids=[f"SKU-{i % 500}"], contents=[{"id": f"SKU-{i % 500}", "quantity": 1, "item_price": "19.50"}],
            value=Decimal("19.50"), currency="USD", user_agent="Mozilla/5.0 (bench)", ip="203.0.113.0",
            user_data=hashed[i % 1000], browser_ids={"ga": f"{i // 5}.1", "fbp": "fb.1.1596403881668.1116446470"},
        ))
    Event.objects.bulk_create(rows, batch_size=5000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ss_platforms"))
    parser.add_argument("--events", type=int, default=25_000, help="events; each makes 4 deliveries (default 25,000)")
    parser.add_argument("--seconds", type=int, default=8, help="wrk run length for each collector measurement")
    args = parser.parse_args()
    if not args.database_url.startswith("postgres"):
        raise SystemExit("bench/forward.py measures PostgreSQL: pass --database-url postgres://...")
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    ensure_database(args.database_url)
    tmp = Path(tempfile.mkdtemp(prefix="bench-forward-"))
    fake = subprocess.Popen([sys.executable, "-c", FAKE.format(root=str(ROOT))], stdout=subprocess.PIPE, text=True,
                            start_new_session=True)
    fake_url = fake.stdout.readline().strip()
    (tmp / "bench_forward_settings.py").write_text(SETTINGS)
    os.environ.update({"DATABASE_URL": args.database_url, "SOCIALSHOP_API_BASE": fake_url, "SHOP_DEMO_VAR": str(tmp / "var"),
                       "DJANGO_SETTINGS_MODULE": "bench_forward_settings", "DJANGO_DEBUG": "0",
                       "PYTHONPATH": f"{tmp}{os.pathsep}{ROOT}"})
    sys.path.insert(0, str(tmp))
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, check=True)
    port = free_port(8350)
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", "1", "-b", f"127.0.0.1:{port}", "--log-level", "warning",
                               "shop_demo.wsgi:application"], cwd=ROOT, start_new_session=True)
    try:
        run(args, tmp, f"http://127.0.0.1:{port}", fake_url)
    finally:
        for proc in (server, fake):
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)


def run(args: argparse.Namespace, tmp: Path, site: str, fake_url: str) -> None:
    import django

    django.setup()
    from django.db import connection

    from socialshop.platforms.http import HttpClient
    from socialshop.tracking.forwarding import forward_events
    from socialshop.tracking.models import Delivery
    from socialshop.tracking.outbox import create_deliveries

    with connection.cursor() as cur:
        cur.execute("TRUNCATE socialshop_delivery, socialshop_event, socialshop_platformstatus")
    half = args.events // 2
    started = time.perf_counter()
    seed(half, 0)
    made = create_deliveries()
    outbox_s = time.perf_counter() - started
    print(f"seeded {half} events and made {made.total} outbox rows in {outbox_s:.1f} s "
          f"(pending {sum(made.pending.values())}; fake server {fake_url})")

    calls: list[tuple[str, str, dict, bytes | None]] = []
    original = HttpClient.call

    def recording(self: HttpClient, api_call):  # type: ignore[no-untyped-def]
        calls.append((self.base_url, api_call.method, {"path": api_call.path, "params": dict(api_call.params),
                                                        "headers": dict(api_call.headers)}, api_call.body))
        return original(self, api_call)

    HttpClient.call = recording  # type: ignore[method-assign]
    started = time.perf_counter()
    results = forward_events(max_seconds=3600)
    drain_s = time.perf_counter() - started
    HttpClient.call = original  # type: ignore[method-assign]
    sent = sum(r.sent for r in results.values())
    print(f"drain alone: {sent} deliveries in {drain_s:.2f} s = {sent / drain_s:,.0f} deliveries/s, {len(calls)} HTTP calls "
          f"({', '.join(f'{s} {r.sent}' for s, r in results.items())})")

    prepared = []
    for base, method, parts, body in calls:
        prefix = urlsplit(base).path.rstrip("/")
        target = prefix + parts["path"] + (("?" + urlencode(parts["params"])) if parts["params"] else "")
        payload = json.dumps(body, separators=(",", ":"), default=str).encode() if body is not None else None
        headers = {"Content-Type": "application/json", **parts["headers"]}
        prepared.append((method, target, payload, headers))
    host = urlsplit(fake_url)
    conn = http.client.HTTPConnection(host.hostname, host.port, timeout=30)
    started = time.perf_counter()
    for method, target, payload, headers in prepared:
        conn.request(method, target, body=payload, headers=headers)
        conn.getresponse().read()
    http_s = time.perf_counter() - started
    conn.close()
    share = max(0.0, 1 - http_s / drain_s)
    print(f"bare HTTP, same {len(prepared)} calls: {http_s:.2f} s -> our code {share:.0%} of the drain time, HTTP + fake server {1 - share:.0%}")

    wrk_rps(wrk(site, 2, tmp))  # warm-up: gunicorn worker, connections, caches
    alone = wrk_rps(wrk(site, args.seconds, tmp))
    from socialshop.tracking.models import Event

    Event.objects.exclude(event_id__startswith="bench-").delete()  # the collector's own events stay out of the outbox
    seed(args.events - half, half)
    create_deliveries()
    pending = Delivery.objects.filter(status="pending").count()
    box: dict[str, float] = {}

    def drain() -> None:
        t0 = time.perf_counter()
        box["sent"] = sum(r.sent for r in forward_events(max_seconds=3600).values())
        box["seconds"] = time.perf_counter() - t0
        connection.close()

    load = wrk(site, args.seconds, tmp)
    worker = threading.Thread(target=drain)
    worker.start()
    during = wrk_rps(load)
    worker.join()
    print(f"collector alone: {alone:,.0f} req/s; while draining {pending} deliveries: {during:,.0f} req/s "
          f"(that drain: {box['sent'] / box['seconds']:,.0f} deliveries/s under load, {box['seconds']:.1f} s)")
    total = Delivery.objects.filter(status="sent", event__event_id__startswith="bench-").count()
    print(f"sent {total} of {args.events * 4} deliveries: {'OK' if total == args.events * 4 else 'NOT ALL SENT'}")
    rate, ratio = sent / drain_s, during / alone
    ok = total == args.events * 4 and rate >= DRAIN_TARGET and ratio >= COLLECTOR_TARGET
    print(f"{'PASS' if ok else 'FAIL'} drain {rate:,.0f} deliveries/s (need >= {DRAIN_TARGET:,}); collector during/without "
          f"drain ratio {ratio:.2f} (need >= {COLLECTOR_TARGET}); all sent once: {'yes' if total == args.events * 4 else 'NO'}; "
          f"our-code share {share:.2f}")


if __name__ == "__main__":
    main()
