"""Audience builds and upload preparation on simulated traffic (PostgreSQL; issue #14, "Performance").

Traffic comes from the simulator (``tracking/simulate.py``, what ``socialshop_simulate`` runs) with
signed-in customers and hashed checkouts (``customers=``), loaded in chunks of visitors until the event
store holds each size (1M, then 3M: the second size adds to the first). At each size the four standard
audiences are rebuilt (membership, diff against the previous build, history rows) after a little new
traffic, against the equivalent hand-written membership SQL alone (``events_scale.floor_sql``) in the
same run; the builds run in a child process whose peak RSS is the memory figure. Then the upload of
100,000 members to Meta is prepared as the drain does it up to the HTTP call: from the rows a claim
returns (one UPDATE ... RETURNING them with the hashes the diff queued them with) to the records,
batches and request bodies, under the drain's garbage-collector setting (``core.jobs.bulk_work``),
against a bare ``hashlib`` loop over the same number of identifiers, each side the fastest of three.
Queueing and claiming are timed apart and printed, and so is claiming and preparing together against
the same baseline. Last line: the figures, PASS/FAIL each.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ss_audbench python bench/audiences.py
        [--sizes 1000000,3000000] [--repeat 3] [--members 100000] [--reuse]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from events_scale import _ensure_database, _setup, floor_sql, sql  # noqa: E402 - the shared loaders and floor SQL
from events_scale import audiences as events_scale_audiences  # noqa: E402

DAYS = 60  # traffic spread over the last 60 days: every standard window sees some of it
CHUNK_VISITORS = 10_000
CUSTOMERS = 0.4  # share of identified visitors who are signed-in customers
POSTS = 24
NEW_TRAFFIC = 1_000  # visitors simulated before each timed rebuild, so every rebuild has a real diff
TRUNCATE = ("event", "consentrecord", "audiencemember", "audiencecandidate", "audiencebuild", "visitorlink",
            "eventcursor", "audiencechange", "destinationmember", "destination", "interest", "delivery")


def rss_peak_mb() -> float:
    """This process's peak resident set size in MB (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def simulated_posts() -> list[Any]:
    """Shoppable posts for the simulator: each tags three catalogue products (post engagers need them)."""
    from socialshop.tracking.simulate import SimulatedPost, catalog_products

    ids = [p[0] for p in catalog_products()]
    return [SimulatedPost(post_id=f"bench-post-{i}", slug=f"bench-post-{i}",
                          tags=tuple((f"tag-{i}-{k}", ids[(i * 3 + k) % len(ids)]) for k in range(3)))
            for i in range(POSTS)]


def ensure_store() -> None:
    """A demo catalogue to simulate traffic for (the demo's own seed, no customers)."""
    from shop_demo.store.seed import seed_store, store_is_empty

    if store_is_empty():
        seed_store(products=120, customers=0)


def event_count() -> int:
    return int(sql("SELECT count(*) FROM socialshop_event", fetch=True)[0][0])


def simulate_until(size: int, *, seed: int) -> tuple[int, int]:
    """Simulate chunks of visitors until the event store holds ``size`` events; returns (visitors added, next seed)."""
    from socialshop.tracking.simulate import simulate_traffic

    posts, visitors, started = simulated_posts(), 0, time.perf_counter()
    while (have := event_count()) < size:
        chunk = min(CHUNK_VISITORS, max(1000, (size - have) // 8))
        simulate_traffic(visitors=chunk, days=DAYS, seed=seed, posts=posts, customers=CUSTOMERS)
        visitors, seed = visitors + chunk, seed + 1
        print(f"  {event_count():,} events ({visitors:,} visitors this size, {time.perf_counter() - started:.0f} s)", flush=True)
    for table in ("event", "consentrecord"):
        sql(f"VACUUM ANALYZE socialshop_{table}")  # fresh statistics after a large load
    return visitors, seed


EVENT_COLUMNS = ("event_id, name, occurred_at, received_at, source, visitor_id, session_id, may_share, gpc, url, referrer, "
                 "content_ids, contents, value, currency, order_id, search_string, post_id, tag_id, click_ids, utm, "
                 "browser_ids, user_data, user_agent, ip, properties, created_at, updated_at, user_id")


def replicate_until(size: int) -> int:
    """Grow the store to ``size`` events with copies of the simulated traffic, in SQL: each copy is new people
    (visitor, account, order and event ids and the hashed identities changed), the simulator's mix kept.
    Simulating 3M events in Python takes half an hour on this machine; a copy takes a minute. Returns copies made."""
    base = int(sql("SELECT coalesce(max(id), 0) FROM socialshop_event", fetch=True)[0][0])
    have, copies = event_count(), 0
    copy = lambda k, column: f"CASE WHEN {column} <> '' THEN {column} || '~{k}' ELSE '' END"  # noqa: E731
    while have < size:
        copies += 1
        k = copies
        rehash = (f"CASE WHEN e.user_data = '{{}}'::jsonb THEN e.user_data ELSE (SELECT jsonb_object_agg(j.key, "
                  f"encode(sha256(convert_to(j.value || '~{k}', 'UTF8')), 'hex')) FROM jsonb_each_text(e.user_data) j) END")
        sql(f"INSERT INTO socialshop_event ({EVENT_COLUMNS}) SELECT e.event_id || '~{k}', e.name, e.occurred_at, e.received_at, "
            f"e.source, {copy(k, 'e.visitor_id')}, {copy(k, 'e.session_id')}, e.may_share, e.gpc, e.url, e.referrer, "
            f"e.content_ids, e.contents, e.value, e.currency, {copy(k, 'e.order_id')}, e.search_string, e.post_id, e.tag_id, "
            f"e.click_ids, e.utm, e.browser_ids, {rehash}, e.user_agent, e.ip, e.properties, e.created_at, e.updated_at, "
            f"CASE WHEN e.user_id IS NULL THEN NULL ELSE mod(e.user_id::bigint + {k} * 715827883, 2147483646)::int + 1 END "
            f"FROM socialshop_event e WHERE e.id <= %s AND e.event_id NOT LIKE '%%~%%' LIMIT %s", [base, size - have])
        sql(f"INSERT INTO socialshop_consentrecord (visitor_id, analytics, ads, gpc, opted_out, created_at, updated_at) "
            f"SELECT visitor_id || '~{k}', analytics, ads, gpc, opted_out, created_at, updated_at FROM socialshop_consentrecord "
            f"WHERE visitor_id NOT LIKE '%%~%%' ON CONFLICT DO NOTHING")
        have = event_count()
        print(f"  {have:,} events after copy {k} of the simulated traffic", flush=True)
    for table in ("event", "consentrecord"):
        sql(f"VACUUM ANALYZE socialshop_{table}")
    return copies


def standard_audiences() -> list[Any]:
    """The issue's four standard audiences, as events_scale.py makes them, viewing the simulated catalogue."""
    from socialshop.audiences.models import Audience
    from socialshop.tracking.simulate import catalog_products

    slugs = [a.slug for a in events_scale_audiences()]
    Audience.objects.filter(slug__startswith="viewers").update(params={"products": [p[0] for p in catalog_products()][:40]})
    return [Audience.objects.get(slug=slug) for slug in slugs]


def floor_membership(audience: Any) -> int:
    """The hand-written membership SQL alone, materialised as the builder's candidate rows are."""
    from django.utils import timezone

    select, params = floor_sql(audience, timezone.now())
    sql("SET jit = off")  # as the builder runs (audiences/builder.py no_jit): both sides without JIT compilation
    sql("DROP TABLE IF EXISTS bench_floor")
    return int(sql(f"CREATE TEMP TABLE bench_floor AS {select}", params))


def child_builds(repeat: int, seed: int) -> dict[str, Any]:
    """First builds, then ``repeat`` rounds of new traffic + timed rebuild and floor per audience."""
    from socialshop.audiences.builder import build_audience
    from socialshop.tracking.simulate import simulate_traffic

    audiences = standard_audiences()
    out: dict[str, Any] = {"rss_before": rss_peak_mb(), "audiences": {}}
    for audience in audiences:
        started = time.perf_counter()
        build = build_audience(audience)
        assert build.status == "succeeded", build.error
        out["audiences"][audience.slug] = {"first": time.perf_counter() - started, "builds": [], "floors": [], "diffs": []}
    # What autovacuum does within a minute of the first builds' bulk writes (memberships, and the visitor links
    # of every newly loaded visitor); the PostgreSQL this bench was written on runs with autovacuum off.
    sql("ANALYZE socialshop_audiencemember")
    sql("ANALYZE socialshop_visitorlink")
    posts = simulated_posts()
    for round_ in range(repeat):
        simulate_traffic(visitors=NEW_TRAFFIC, days=1, seed=seed + round_, posts=posts, customers=CUSTOMERS)
        for audience in audiences:
            row = out["audiences"][audience.slug]
            started = time.perf_counter()
            build = build_audience(audience)
            row["builds"].append(time.perf_counter() - started)
            assert build.status == "succeeded", build.error
            row["diffs"].append((build.added, build.removed))
            row["size"] = build.size
            started = time.perf_counter()
            floor = floor_membership(audience)
            row["floors"].append(time.perf_counter() - started)
            row["floor_size"] = floor
    out["rss_peak"] = rss_peak_mb()
    return out


UPLOAD_SLUG = "bench-upload"
PREPARE_REPEAT = 3  # each claim's preparation and the bare loop are timed this many times; the fastest counts


def upload_members(members: int) -> Any:
    """An audience of ``members`` shareable persons of the simulated traffic, those with hashed identifiers
    (guest buyers, customers and visitors whose checkouts carry user data) first."""
    from django.utils import timezone

    from socialshop.audiences.builder import build_audience
    from socialshop.audiences.models import Audience, AudienceMember, RuleKind
    from socialshop.audiences.sync import _consent_ok_sql

    audience, _ = Audience.objects.update_or_create(slug=UPLOAD_SLUG, defaults={
        "name": UPLOAD_SLUG, "kind": RuleKind.VISITORS, "lookback_days": DAYS + 1, "params": {}})
    AudienceMember.objects.filter(audience=audience).delete()
    assert build_audience(audience).status == "succeeded"
    ok, params = _consent_ok_sql()
    # Keep the first ``members`` shareable persons, those the store holds hashed identifiers for first.
    sql(f"UPDATE socialshop_audiencemember SET left_at = %s WHERE audience_id = %s AND left_at IS NULL AND id NOT IN ("
        f"SELECT m.id FROM socialshop_audiencemember m WHERE m.audience_id = %s AND m.left_at IS NULL AND {ok} "
        f"ORDER BY m.person LIKE 'v:%%' AND m.visitor_id NOT IN (SELECT e.visitor_id FROM socialshop_event e "
        f"WHERE e.name IN ('InitiateCheckout', 'Purchase') AND e.user_data <> '{{}}'), m.person LIMIT %s)",
        [timezone.now(), audience.pk, audience.pk, *params, members])
    return audience


def child_upload(members: int) -> dict[str, Any]:
    """Prepare the upload of ``members`` members to Meta as the sync does, stopping at the HTTP call."""
    from socialshop.audiences.models import AudienceChange, Destination, DestinationMember
    from socialshop.audiences.sync import ChangeQueue, queue_changes, wanted_count
    from socialshop.core.jobs import bulk_work
    from socialshop.platforms import REGISTRY
    from socialshop.platforms.delivery import claim_batch

    audience = upload_members(members)
    wanted = wanted_count(audience)
    Destination.objects.filter(audience=audience).delete()
    destination = Destination.objects.create(audience=audience, platform="meta", remote_id="6000000000001")
    platform = REGISTRY["meta"]({"ad_account_id": "act_1234567890", "access_token": "bench", "pixel_id": "1"})
    uploads = platform.capability("audiences")
    sql("ANALYZE socialshop_audiencemember")
    started = time.perf_counter()
    adds, _removes = queue_changes(destination)
    queued = time.perf_counter() - started
    queue, claims, prepare, records, identifiers, bodies = ChangeQueue(), 0.0, 0.0, 0, 0, 0
    with bulk_work():  # as the drain runs (platforms/delivery.py)
        while True:
            started = time.perf_counter()
            # The claim is one UPDATE ... RETURNING the rows with the hashes queued with them, decoded.
            token, rows = claim_batch(queue, "meta", size=uploads.batch_limit, lease_seconds=3600)
            claims += time.perf_counter() - started
            if not rows:
                break
            times, done = [], []
            for _ in range(PREPARE_REPEAT):  # the same claim prepared again: the fastest counts, as for the baseline
                started = time.perf_counter()
                sendable, _skip = queue.prepare(uploads, rows, now=time.time())
                done = [uploads.payload(batch) for batch in queue.batches(uploads, [record for _, record in sendable])]
                times.append(time.perf_counter() - started)
            prepare += min(times)
            for body in done:
                bodies += 1
                records += len(body["payload"]["data"])
                identifiers += sum(1 for row in body["payload"]["data"] for value in row if value)
            AudienceChange.objects.filter(claimed_by=token).update(status="sent", claimed_by="")
    # The baseline: a bare loop hashing as many identifiers of the same shape (normalised email or phone).
    raw = [f"shopper{i}@example.com" if i % 2 else f"1202555{i % 10000:04d}" for i in range(identifiers)]
    bares = []
    for _ in range(PREPARE_REPEAT):
        started = time.perf_counter()
        for value in raw:
            hashlib.sha256(value.encode()).hexdigest()
        bares.append(time.perf_counter() - started)
    bare = min(bares)
    DestinationMember.objects.filter(destination=destination).delete()
    return {"members": members, "wanted": wanted, "queued": adds, "queue_seconds": queued, "claim_seconds": claims,
            "prepare_seconds": prepare, "records": records, "identifiers": identifiers, "bodies": bodies,
            "bare_seconds": bare, "rss_peak": rss_peak_mb()}


def run_child(args: list[str]) -> dict[str, Any]:
    """Run this script as a child (its own process: its own peak RSS); returns its JSON answer."""
    done = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=False)
    if done.returncode:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"child {args} failed")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000000,3000000", help="comma-separated event counts, ascending")
    parser.add_argument("--repeat", type=int, default=3, help="rebuild rounds per size (the median is shown)")
    parser.add_argument("--members", type=int, default=100_000, help="members whose upload is prepared")
    parser.add_argument("--reuse", action="store_true", help="keep the events already loaded (simulate only what is missing)")
    parser.add_argument("--child", choices=("builds", "upload"), help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        raise SystemExit("audiences.py needs PostgreSQL: DATABASE_URL=postgres://USER@HOST:PORT/DBNAME (its own database)")
    if args.child:
        _setup(url)
        answer = child_builds(args.repeat, args.seed) if args.child == "builds" else child_upload(args.members)
        print(json.dumps(answer))
        return
    try:
        sizes = sorted(int(s) for s in args.sizes.split(",") if s.strip())
    except ValueError:
        raise SystemExit(f"--sizes must be comma-separated whole numbers, got {args.sizes!r}")
    _ensure_database(url)
    _setup(url)
    ensure_store()
    if not args.reuse:
        for model in TRUNCATE:
            sql(f"TRUNCATE socialshop_{model} CASCADE")
    from django.db import connection

    print(f"PostgreSQL {urlparse(url).path.lstrip('/')}; simulated traffic over {DAYS} days, {CUSTOMERS:.0%} of "
          f"identified visitors signed in; median of {args.repeat} rebuilds per audience", flush=True)
    rows, seed, visitors = [], 1000, 0
    for index, size in enumerate(sizes):
        if index == 0:
            added, seed = simulate_until(size, seed=seed)
            visitors = added if not args.reuse else int(sql("SELECT count(*) FROM socialshop_consentrecord", fetch=True)[0][0])
        else:
            visitors *= 1 + replicate_until(size)
        connection.close()
        got = run_child(["--child", "builds", "--repeat", str(args.repeat), "--seed", str(seed * 1000)])
        got["size"], got["visitors"] = event_count(), visitors  # with --reuse: identified visitors (consent records)
        rows.append(got)
        print(f"\n== {got['size']:,} events from {visitors:,} simulated visitors (builds' peak RSS {got['rss_peak']:.0f} MB)")
        for slug, a in got["audiences"].items():
            build, floor = statistics.median(a["builds"]), statistics.median(a["floors"])
            a["ratio"] = build / floor
            print(f"  {slug:16} {a['size']:>8,} members (floor {a['floor_size']:,}), +/- per rebuild {a['diffs']}: "
                  f"first {a['first']:.2f} s, rebuild {build:.2f} s, hand-written membership {floor:.2f} s -> ratio {a['ratio']:.2f}",
                  flush=True)
    connection.close()
    up = run_child(["--child", "upload", "--members", str(args.members)])
    rate = up["records"] / up["prepare_seconds"]
    bare_rate = up["records"] / up["bare_seconds"]
    upload_ratio = up["bare_seconds"] / up["prepare_seconds"]
    with_claims = up["bare_seconds"] / (up["prepare_seconds"] + up["claim_seconds"])
    print(f"\n== upload to Meta of {up['members']:,} members ({up['wanted']:,} shareable, {up['queued']:,} queued in "
          f"{up['queue_seconds']:.2f} s, claimed with their hashes in {up['claim_seconds']:.2f} s): {up['records']:,} "
          f"matchable members, {up['identifiers']:,} identifiers in {up['bodies']} bodies prepared in {up['prepare_seconds']:.3f} s "
          f"({rate:,.0f}/s); bare hashlib over {up['identifiers']:,} identifiers {up['bare_seconds']:.3f} s "
          f"({bare_rate:,.0f} members/s); claims and preparation together {with_claims:.2f}x bare; peak RSS {up['rss_peak']:.0f} MB")
    small, big = rows[0], rows[-1]
    worst = max(a["ratio"] for a in big["audiences"].values())
    worst_small = max(a["ratio"] for a in small["audiences"].values())
    total = {r["size"]: sum(statistics.median(a["builds"]) for a in r["audiences"].values()) for r in rows}
    growth = total[big["size"]] / total[small["size"]] if len(rows) > 1 else 1.0
    memory = max(r["rss_peak"] for r in rows)
    checks = [("rebuild/hand-written", worst_small <= 3 and worst <= 3, f"{worst_small:.2f} at {small['size'] / 1e6:.0f}M, "
               f"{worst:.2f} at {big['size'] / 1e6:.0f}M (need <= 3)"),
              ("peak RSS", memory < 300, f"{memory:.0f} MB (need < 300)"),
              ("growth", len(rows) > 1 and growth <= 3.6, f"{small['size'] / 1e6:.0f}M->{big['size'] / 1e6:.0f}M {growth:.2f}x (need <= 3.6)"),
              ("upload preparation/bare hashing", upload_ratio >= 0.5, f"{upload_ratio:.2f} (need >= 0.5)")]
    print("\n" + "; ".join(f"{'PASS' if ok else 'FAIL'} {name} {text}" for name, ok, text in checks))


if __name__ == "__main__":
    main()
