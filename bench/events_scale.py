"""The event store at scale (PostgreSQL): audience rebuilds, picks, campaign results and retention at
1M, 3M and 10M events, each against a hand-written SQL floor on the same indexes in the same run.

For each size the event table is emptied and loaded in SQL (INSERT ... SELECT generate_series, in the
simulator's mix of names, visitors and products, spread over 90 days in time order, with secondary
indexes built after the load), then measured. The last line gives the ratios and the growth from the
smallest to the largest size. ``--partitions`` also copies the events into a monthly-partitioned
scratch table (bench only) and compares reads and retention on it.

    python bench/events_scale.py [--database-url postgres://postgres@127.0.0.1:5432/ss_scale_bench]
                                 [--sizes 1000000,3000000,10000000] [--partitions 1000000]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone as dt_timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
SPAN_DAYS = 90
PRODUCTS = 2000
RETENTION_ROWS = 100_000

# Name by hash bucket out of 1000: the simulator's funnel (views >> carts >> purchases) plus post engagement.
MIX = (
    (450, "PageView"), (750, "ViewContent"), (800, "Search"), (870, "AddToCart"), (895, "InitiateCheckout"),
    (905, "Purchase"), (965, "PostView"), (975, "PostClick"), (985, "PostLike"), (990, "PostSave"),
    (995, "PostShare"), (1000, "PostComment"),
)
PRODUCT_NAMES = ("ViewContent", "AddToCart", "InitiateCheckout", "Purchase")


def _ensure_database(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def _setup(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop_demo.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def timed(fn: Callable[[], Any], *, repeat: int = 3) -> tuple[float, Any]:
    """Median seconds of ``repeat`` runs of ``fn`` (the machine is shared), and the last result."""
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def sql(statement: str, params: list[Any] | None = None, *, fetch: bool = False) -> Any:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])
        return cursor.fetchall() if fetch else cursor.rowcount


def _name_case() -> str:
    parts = " ".join(f"WHEN h.n < {limit} THEN '{name}'" for limit, name in MIX)
    return f"CASE {parts} END"


def load(size: int, now: datetime) -> float:
    """Empty the event store and load ``size`` events in SQL; returns seconds (secondary indexes rebuilt)."""
    from django.db import connection

    from socialshop.tracking.models import Event

    table = Event._meta.db_table
    started = time.perf_counter()
    for model in ("delivery", "interest", "audiencemember", "audiencecandidate", "visitorlink", "eventcursor"):
        sql(f"TRUNCATE socialshop_{model}")
    sql(f"TRUNCATE {table}")
    # Drop whatever secondary indexes and unique constraints the table has now (a killed run may have
    # left only some), load without them, then build the model's own set: faster than maintaining them.
    for (name,) in sql("SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'u'", [table], fetch=True):
        sql(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for (name,) in sql("SELECT indexname FROM pg_indexes WHERE tablename = %s AND indexname <> %s",
                       [table, f"{table}_pkey"], fetch=True):
        sql(f'DROP INDEX "{name}"')
    start = now - timedelta(days=SPAN_DAYS)
    visitors = max(size // 8, 1)
    products = ", ".join(f"'{n}'" for n in PRODUCT_NAMES)
    sql(
        f"INSERT INTO {table} (event_id, name, occurred_at, received_at, source, visitor_id, session_id, user_id, "
        f"may_share, gpc, url, referrer, content_ids, contents, value, currency, order_id, search_string, post_id, "
        f"tag_id, click_ids, utm, browser_ids, user_data, user_agent, ip, properties, created_at, updated_at) "
        f"SELECT 'b' || g, x.name, x.at, x.at + interval '2 seconds', 'simulated', x.vid, '', "
        f"CASE WHEN x.vid <> '' AND mod(x.num, 20) = 0 THEN x.num END, x.vid <> '', false, 'https://shop.example/', '', "
        f"CASE WHEN x.name IN ({products}) THEN jsonb_build_array('sku-' || x.sku) ELSE '[]'::jsonb END, '[]'::jsonb, "
        f"CASE WHEN x.name IN ({products}) THEN (10 + mod(x.sku, 90))::numeric ELSE NULL END, "
        f"CASE WHEN x.name IN ({products}) THEN 'USD' ELSE '' END, CASE WHEN x.name = 'Purchase' THEN 'o' || g ELSE '' END, "
        f"'', CASE WHEN x.name LIKE 'Post%%' THEN 'post-' || mod(g, 200) ELSE '' END, '', '{{}}', '{{}}', '{{}}', "
        f"CASE WHEN x.name = 'Purchase' AND x.vid <> '' THEN jsonb_build_object('em', md5(x.vid)) ELSE '{{}}'::jsonb END, "
        f"'', '', '{{}}', x.at, x.at FROM generate_series(1, %s::int) g "
        f"CROSS JOIN LATERAL (SELECT mod(abs(hashint4(g)), 1000) AS n, mod(abs(hashint4(g * 7 + 3)), 1000) AS k, "
        f"mod(abs(hashint4(g * 13 + 7)), {PRODUCTS}) AS p) h "
        f"CROSS JOIN LATERAL (SELECT {_name_case()} AS name, "
        f"%s::timestamptz + (g::float8 / %s) * interval '{SPAN_DAYS} days' AS at, "
        f"CASE WHEN h.k < 180 THEN -1 WHEN h.k < 300 THEN mod(abs(hashint4(g * 11 + 5)), %s) ELSE g / 8 END AS num, "
        f"(h.p * h.p) / {PRODUCTS} AS sku) y "
        f"CROSS JOIN LATERAL (SELECT y.name, y.at, y.num, y.sku, CASE WHEN y.num < 0 THEN '' ELSE 'v' || y.num END AS vid) x",
        [size, start, size, visitors])
    with connection.schema_editor() as editor:
        for index in Event._meta.indexes:
            editor.add_index(Event, index)
        for constraint in Event._meta.constraints:
            editor.add_constraint(Event, constraint)
    # Deliveries for a tenth of the shareable events: retention must delete them too.
    sql(f"INSERT INTO socialshop_delivery (event_id, platform, status, attempts, claimed_by, reason, created_at, updated_at) "
        f"SELECT id, 'meta', 'sent', 1, '', '', received_at, received_at FROM {table} WHERE may_share AND mod(id, 10) = 0")
    sql(f"VACUUM ANALYZE {table}")
    sql("VACUUM ANALYZE socialshop_delivery")
    connection.close()
    return time.perf_counter() - started


def audiences() -> list[Any]:
    from socialshop.audiences.models import Audience, RuleKind

    specs = [
        ("viewers-14d", RuleKind.VIEWERS, 14, {"products": [f"sku-{i}" for i in range(100)]}, None),
        ("cart-1h-7d", RuleKind.CART_ABANDONERS, 7, {"min_delay_minutes": 60, "max_delay_minutes": 7 * 24 * 60}, 7),
        ("engagers-30d", RuleKind.POST_ENGAGERS, 30, {}, None),
        ("purchasers-180d", RuleKind.PURCHASERS, 180, {"recency_days": 180}, None),
    ]
    out = []
    for slug, kind, days, params, exclude in specs:
        audience, _ = Audience.objects.update_or_create(slug=slug, defaults={
            "name": slug, "kind": kind, "lookback_days": days, "params": params, "exclude_purchasers_days": exclude})
        out.append(audience)
    return out


def floor_sql(audience: Any, now: datetime) -> tuple[str, list[Any]]:
    """The hand-written SQL for the audience's persons, the same person logic as audiences/rules.py."""
    src = ("socialshop_event e LEFT JOIN socialshop_visitorlink l ON l.visitor_id = e.visitor_id AND e.visitor_id <> ''")
    person = ("CASE WHEN e.user_id IS NOT NULL THEN 'u:' || e.user_id::text WHEN l.person IS NOT NULL THEN l.person "
              "ELSE 'v:' || e.visitor_id END")
    ident = "(e.visitor_id <> '' OR e.user_id IS NOT NULL)"
    since = now - timedelta(days=audience.lookback_days)
    if audience.slug.startswith("viewers"):
        return (f"SELECT {person} AS person, max(e.occurred_at) FROM {src} WHERE e.name = 'ViewContent' AND e.occurred_at "
                f"BETWEEN %s AND %s AND {ident} AND e.content_ids::jsonb ?| %s GROUP BY 1",
                [since, now, audience.params["products"]])
    if audience.slug.startswith("cart"):
        return (f"SELECT a.person, a.at FROM (SELECT {person} AS person, max(e.occurred_at) AS at FROM {src} "
                f"WHERE e.name = 'AddToCart' AND e.occurred_at BETWEEN %s AND %s AND {ident} GROUP BY 1) a "
                f"WHERE NOT EXISTS (SELECT 1 FROM {src} WHERE e.name = 'Purchase' AND e.occurred_at BETWEEN a.at AND %s "
                f"AND {person} = a.person) AND a.person NOT IN (SELECT {person} FROM {src} WHERE e.name = 'Purchase' "
                f"AND e.occurred_at BETWEEN %s AND %s)",
                [since, now - timedelta(hours=1), now, now - timedelta(days=7), now])
    if audience.slug.startswith("engagers"):
        return (f"SELECT {person} AS person, max(e.occurred_at) FROM {src} WHERE e.name IN ('PostClick', 'PostCloseup', "
                f"'PostSave', 'PostLike', 'PostShare', 'PostComment') AND e.occurred_at BETWEEN %s AND %s AND {ident} "
                f"GROUP BY 1", [since, now])
    return (f"SELECT {person} AS person, max(e.occurred_at) FROM {src} WHERE e.name = 'Purchase' AND e.occurred_at "
            f"BETWEEN %s AND %s AND {ident} GROUP BY 1 HAVING count(DISTINCT e.order_id) >= 1", [since, now])


def floor_build(audience: Any, now: datetime) -> int:
    """Hand-written membership and diff: the persons into a scratch table, then joins and leaves against it."""
    select, params = floor_sql(audience, now)
    sql("DROP TABLE IF EXISTS bench_floor")
    sql(f"CREATE TEMP TABLE bench_floor AS {select}", params)
    sql("CREATE INDEX ON bench_floor (person)")  # as the builder's candidate rows are indexed
    sql("ANALYZE bench_floor")
    joins = sql("SELECT count(*) FROM bench_floor f WHERE NOT EXISTS (SELECT 1 FROM socialshop_audiencemember m "
                "WHERE m.audience_id = %s AND m.left_at IS NULL AND m.person = f.person)", [audience.pk], fetch=True)[0][0]
    sql("SELECT count(*) FROM socialshop_audiencemember m WHERE m.audience_id = %s AND m.left_at IS NULL AND NOT EXISTS "
        "(SELECT 1 FROM bench_floor f WHERE f.person = m.person)", [audience.pk], fetch=True)
    return int(joins)


PICKS_FLOOR = ("SELECT visitor_id, product_id FROM (SELECT visitor_id, product_id, row_number() OVER (PARTITION BY visitor_id "
               "ORDER BY greatest(last_carted_at, last_viewed_at) DESC, product_id) rn FROM socialshop_interest "
               "WHERE visitor_id = ANY(%s) AND purchased_at IS NULL) r WHERE rn <= 10")
PICKS_RAW = ("SELECT visitor_id, pid FROM (SELECT visitor_id, pid, row_number() OVER (PARTITION BY visitor_id ORDER BY max(at) DESC, pid) rn "
             "FROM (SELECT e.visitor_id, j.value AS pid, e.occurred_at AS at, e.name FROM {table} e CROSS JOIN LATERAL "
             "jsonb_array_elements_text(e.content_ids) j(value) WHERE e.visitor_id = ANY(%s) AND e.name IN "
             "('ViewContent', 'AddToCart', 'Purchase')) x GROUP BY visitor_id, pid HAVING bool_and(name <> 'Purchase')) r "
             "WHERE rn <= 10")
RESULTS_FLOOR = ("SELECT count(DISTINCT e.order_id), coalesce(sum(e.value), 0) FROM socialshop_event e WHERE e.name = 'Purchase' "
                 "AND e.occurred_at BETWEEN %s AND %s AND e.visitor_id IN (SELECT m.visitor_id FROM socialshop_audiencemember m "
                 "WHERE m.audience_id = %s AND m.left_at IS NULL)")


def results_orm(audience: Any, since: datetime, until: datetime) -> tuple[int, Any]:
    """Conversions and revenue of the audience's members in a window, as a campaign report asks (ORM)."""
    from django.db.models import Count, Sum

    from socialshop.audiences.models import AudienceMember
    from socialshop.tracking.models import Event

    members = AudienceMember.objects.filter(audience=audience, left_at__isnull=True).values("visitor_id")
    got = Event.objects.filter(name="Purchase", occurred_at__range=(since, until), visitor_id__in=members).aggregate(
        orders=Count("order_id", distinct=True), revenue=Sum("value"))
    return got["orders"], got["revenue"]


def measure(size: int, *, repeat: int, with_partitions: bool) -> dict[str, Any]:
    from django.db import connection
    from django.utils import timezone

    from socialshop.audiences.builder import build_audience
    from socialshop.audiences.models import AudienceMember
    from socialshop.tracking.interest import picks_for, rebuild_interest
    from socialshop.tracking.retention import purge_old_events

    now = timezone.now()
    row: dict[str, Any] = {"size": size, "load": load(size, now)}
    started = time.perf_counter()
    rebuild_interest()
    row["interest_rebuild"] = time.perf_counter() - started
    sql("VACUUM ANALYZE socialshop_interest")
    builds, floors = {}, {}
    for audience in audiences():
        first, build = timed(lambda a=audience: build_audience(a), repeat=1)  # membership: everyone joins
        assert build.status == "succeeded", build.error
        sql("ANALYZE socialshop_audiencemember")  # both sides plan on fresh statistics
        diff, _ = timed(lambda a=audience: build_audience(a), repeat=repeat)  # rebuild with its diff
        floor, _ = timed(lambda a=audience: floor_build(a, timezone.now()), repeat=repeat)
        builds[audience.slug], floors[audience.slug] = (first, diff, build.size), floor
    row["builds"], row["floors"] = builds, floors
    cart = next(a for a in audiences() if a.slug.startswith("cart"))
    ids = list(AudienceMember.objects.filter(audience=cart, left_at__isnull=True).exclude(visitor_id="")
               .values_list("visitor_id", flat=True))
    row["picks_n"] = len(ids)
    row["picks"], picked = timed(lambda: picks_for(ids, 10), repeat=repeat)
    row["picks_floor"], _ = timed(lambda: sql(PICKS_FLOOR, [ids], fetch=True), repeat=repeat)
    row["picks_raw"], _ = timed(lambda: sql(PICKS_RAW.format(table="socialshop_event"), [ids], fetch=True), repeat=repeat)
    row["picks_visitors"] = len(picked)
    since, until = now - timedelta(days=7), now
    row["results"], got = timed(lambda: results_orm(cart, since, until), repeat=repeat)
    row["results_floor"], floor_got = timed(lambda: sql(RESULTS_FLOOR, [since, until, cart.pk], fetch=True)[0], repeat=repeat)
    assert got[0] == floor_got[0], (got, floor_got)
    start = now - timedelta(days=SPAN_DAYS)
    step = timedelta(days=SPAN_DAYS) * RETENTION_ROWS / size
    started = time.perf_counter()
    purged = purge_old_events(before=start + step)
    row["retention"] = (time.perf_counter() - started) * RETENTION_ROWS / max(purged.deleted, 1)
    row["retention_deleted"] = purged.deleted
    cutoff = start + 2 * step
    started = time.perf_counter()
    sql("DELETE FROM socialshop_delivery WHERE event_id IN (SELECT id FROM socialshop_event WHERE occurred_at < %s)", [cutoff])
    floor_deleted = sql("DELETE FROM socialshop_event WHERE occurred_at < %s", [cutoff])
    row["retention_floor"] = (time.perf_counter() - started) * RETENTION_ROWS / max(floor_deleted, 1)
    # Last: it deletes the oldest month from the event table to compare with dropping a partition.
    row["partitions"] = partitions(size, repeat=repeat) if with_partitions else None
    connection.close()
    return row


def partitions(size: int, *, repeat: int) -> dict[str, float]:
    """Copy the events into a monthly-partitioned scratch table; reads and retention on both."""
    from django.utils import timezone

    now = timezone.now()
    sql("DROP TABLE IF EXISTS bench_event_part")
    sql("CREATE TABLE bench_event_part (LIKE socialshop_event INCLUDING DEFAULTS) PARTITION BY RANGE (occurred_at)")
    month = datetime(now.year, now.month, 1, tzinfo=dt_timezone.utc)
    bounds = []
    for back in range(5, -2, -1):
        y, m = divmod(month.month - 1 - back, 12)
        bounds.append(datetime(month.year + y, m + 1, 1, tzinfo=dt_timezone.utc))
    for low, high in zip(bounds, bounds[1:]):
        sql(f"CREATE TABLE bench_event_part_{low:%Y%m} PARTITION OF bench_event_part FOR VALUES FROM (%s) TO (%s)", [low, high])
    sql("INSERT INTO bench_event_part SELECT * FROM socialshop_event")
    sql("CREATE INDEX ON bench_event_part (name, occurred_at) INCLUDE (visitor_id, user_id, value, post_id, order_id)")
    sql("CREATE INDEX ON bench_event_part (visitor_id, occurred_at)")
    sql("CREATE INDEX ON bench_event_part USING brin (occurred_at)")
    sql("VACUUM ANALYZE bench_event_part")
    since = now - timedelta(days=7)
    ids = [r[0] for r in sql("SELECT DISTINCT visitor_id FROM socialshop_event WHERE name = 'AddToCart' AND occurred_at > %s "
                             "AND visitor_id <> '' LIMIT 5000", [since], fetch=True)]
    out: dict[str, float] = {}
    for label, table in (("plain", "socialshop_event"), ("part", "bench_event_part")):
        cart = (f"SELECT count(*) FROM (SELECT visitor_id, max(occurred_at) at FROM {table} WHERE name = 'AddToCart' AND "
                f"occurred_at > %s AND visitor_id <> '' GROUP BY 1) a WHERE NOT EXISTS (SELECT 1 FROM {table} p WHERE "
                f"p.name = 'Purchase' AND p.visitor_id = a.visitor_id AND p.occurred_at >= a.at)")
        buyers = (f"SELECT count(*), sum(t) FROM (SELECT visitor_id, sum(value) t FROM {table} WHERE name = 'Purchase' "
                  f"AND occurred_at > %s GROUP BY 1) x")
        out[f"cart_{label}"], _ = timed(lambda c=cart: sql(c, [since], fetch=True), repeat=repeat)
        out[f"buyers_{label}"], _ = timed(lambda b=buyers: sql(b, [now - timedelta(days=180)], fetch=True), repeat=repeat)
        out[f"picks_{label}"], _ = timed(lambda t=table: sql(PICKS_RAW.format(table=t), [ids], fetch=True), repeat=repeat)
    oldest = bounds[0]
    while not sql("SELECT 1 FROM bench_event_part WHERE occurred_at >= %s AND occurred_at < %s LIMIT 1",
                  [oldest, bounds[bounds.index(oldest) + 1]], fetch=True):
        oldest = bounds[bounds.index(oldest) + 1]
    nxt = bounds[bounds.index(oldest) + 1]
    rows = sql("SELECT count(*) FROM bench_event_part WHERE occurred_at < %s", [nxt], fetch=True)[0][0]
    started = time.perf_counter()
    sql(f"DROP TABLE bench_event_part_{oldest:%Y%m}")
    out["drop_month"] = time.perf_counter() - started
    started = time.perf_counter()
    sql("DELETE FROM socialshop_event WHERE occurred_at < %s", [nxt])
    sql("VACUUM socialshop_event")
    out["delete_month"] = time.perf_counter() - started
    out["month_rows"] = float(rows)
    sql("DROP TABLE bench_event_part")
    return out


OLD_INDEXES = ("CREATE INDEX ON {t} (name, occurred_at, visitor_id)",
               "CREATE INDEX ON {t} (user_id) WHERE user_id IS NOT NULL")
NEW_INDEXES = ("CREATE INDEX ON {t} (name, occurred_at) INCLUDE (visitor_id, user_id, value, post_id, order_id)",
               "CREATE INDEX ON {t} (user_id) INCLUDE (visitor_id, occurred_at) WHERE user_id IS NOT NULL",
               # the audience uploads' identifier lookups (migration 0016): only rows carrying hashes enter them,
               # so a browser event (no user_data, as the rows below) pays the predicate only
               "CREATE INDEX ON {t} (visitor_id) WHERE user_data <> '{{}}'::jsonb",
               "CREATE INDEX ON {t} (user_id) WHERE user_data <> '{{}}'::jsonb")
COMMON_INDEXES = ("CREATE INDEX ON {t} (visitor_id, occurred_at)", "CREATE INDEX ON {t} USING brin (occurred_at)",
                  "CREATE UNIQUE INDEX ON {t} (event_id)")


def insert_cost(*, rounds: int = 5, statements: int = 400) -> tuple[float, float]:
    """Microseconds per row of 10-row INSERTs (as the collector writes) into scratch copies of the event
    table with the old and the new index sets, rounds interleaved; returns (old, new) medians."""
    from django.db import connection

    rows = ", ".join(["(%s, 'ViewContent', now(), now(), 'browser', 'v1', 's1', NULL, true, false, 'https://x/', '', "
                      "'[\"sku-1\"]', '[]', 12.5, 'USD', '', '', '', '', '{}', '{}', '{}', '{}', 'ua', '1.2.3.0', '{}', "
                      "now(), now())"] * 10)
    columns = ("event_id, name, occurred_at, received_at, source, visitor_id, session_id, user_id, may_share, gpc, url, "
               "referrer, content_ids, contents, value, currency, order_id, search_string, post_id, tag_id, click_ids, "
               "utm, browser_ids, user_data, user_agent, ip, properties, created_at, updated_at")
    timings: dict[str, list[float]] = {"old": [], "new": []}
    for kind, extra in (("old", OLD_INDEXES), ("new", NEW_INDEXES)):
        table = f"bench_insert_{kind}"
        sql(f"DROP TABLE IF EXISTS {table}")
        sql(f"CREATE TABLE {table} (LIKE socialshop_event INCLUDING DEFAULTS INCLUDING IDENTITY)")
        sql(f"ALTER TABLE {table} ADD PRIMARY KEY (id)")
        for index in (*COMMON_INDEXES, *extra):
            sql(index.format(t=table))
    serial = 0
    for _ in range(rounds):
        for kind in ("old", "new"):
            started = time.perf_counter()
            with connection.cursor() as cursor:
                for _ in range(statements):
                    ids = [f"i{kind}{serial + i}" for i in range(10)]
                    serial += 10
                    cursor.execute(f"INSERT INTO bench_insert_{kind} ({columns}) VALUES {rows}", ids)
            timings[kind].append((time.perf_counter() - started) * 1e6 / (statements * 10))
    for kind in ("old", "new"):
        sql(f"DROP TABLE bench_insert_{kind}")
    return statistics.median(timings["old"]), statistics.median(timings["new"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ss_scale_bench"))
    parser.add_argument("--sizes", default="1000000,3000000,10000000", help="comma-separated event counts, ascending")
    parser.add_argument("--partitions", default="", help="sizes at which to compare a partitioned copy (e.g. 1000000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per timed step (the median is shown)")
    parser.add_argument("--insert-check", action="store_true",
                        help="only compare the insert cost of the old and the new event index sets (10-row INSERTs)")
    args = parser.parse_args()
    if not args.database_url.startswith("postgres"):
        raise SystemExit("events_scale.py needs PostgreSQL: --database-url postgres://USER@HOST:PORT/DBNAME")
    try:
        sizes = sorted(int(s) for s in args.sizes.split(",") if s.strip())
        part_sizes = {int(s) for s in args.partitions.split(",") if s.strip()}
    except ValueError:
        raise SystemExit(f"--sizes/--partitions must be comma-separated whole numbers, got {args.sizes!r} / {args.partitions!r}")
    if not sizes or min(sizes) < 2 * RETENTION_ROWS + 1000:
        raise SystemExit(f"--sizes: each size must be at least {2 * RETENTION_ROWS + 1000}")
    _ensure_database(args.database_url)
    _setup(args.database_url)
    if args.insert_check:
        old, new = insert_cost()
        print(f"insert, 10-row statements: old indexes {old:.1f} us/row, new (covering) {new:.1f} us/row -> "
              f"{(new / old - 1) * 100:+.1f} % per insert (limit +10 %)")
        return
    print(f"PostgreSQL {urlparse(args.database_url).path.lstrip('/')}; events over {SPAN_DAYS} days in the simulator's mix; "
          f"median of {args.repeat} runs per step", flush=True)
    rows = []
    for size in sizes:
        row = measure(size, repeat=args.repeat, with_partitions=size in part_sizes)
        rows.append(row)
        print(f"\n== {size:,} events (loaded in {row['load']:.0f} s; interest rebuilt in {row['interest_rebuild']:.1f} s)")
        for slug, (first, diff, members) in row["builds"].items():
            floor = row["floors"][slug]
            print(f"  audience {slug:16} {members:>8,} members: first build {first:6.2f} s, rebuild+diff {diff:6.2f} s, "
                  f"hand-written {floor:6.2f} s -> ratio {diff / floor:4.2f}")
        print(f"  picks for {row['picks_n']:,} cart abandoners ({row['picks_visitors']:,} with picks): picks_for {row['picks']:.3f} s, "
              f"hand-written {row['picks_floor']:.3f} s -> ratio {row['picks'] / row['picks_floor']:.2f}; "
              f"same from raw events {row['picks_raw']:.3f} s")
        print(f"  campaign results (7 days, cart abandoners): ORM {row['results']:.3f} s, hand-written {row['results_floor']:.3f} s "
              f"-> ratio {row['results'] / row['results_floor']:.2f}")
        print(f"  retention per 100k rows: {row['retention']:.2f} s ({row['retention_deleted']:,} deleted in batches), "
              f"one hand-written DELETE {row['retention_floor']:.2f} s -> ratio {row['retention'] / row['retention_floor']:.2f}", flush=True)
        if row["partitions"]:
            p = row["partitions"]
            print(f"  partitions (monthly, scratch copy): cart abandoners {p['cart_plain']:.3f} s plain vs {p['cart_part']:.3f} s "
                  f"partitioned; purchasers 180d {p['buyers_plain']:.3f} vs {p['buyers_part']:.3f}; per-visitor picks "
                  f"{p['picks_plain']:.3f} vs {p['picks_part']:.3f}; retention of the oldest month ({p['month_rows']:,.0f} rows): "
                  f"DELETE+VACUUM {p['delete_month']:.2f} s vs DROP partition {p['drop_month']:.3f} s", flush=True)
    big, small = rows[-1], rows[0]
    worst_build = max(big["builds"][s][1] / big["floors"][s] for s in big["floors"])
    picks_ratio = big["picks"] / big["picks_floor"]
    growth = big["retention"] / small["retention"]
    ok = worst_build <= 2 and picks_ratio <= 3 and (len(rows) == 1 or growth <= 1.5)
    print(f"\n{'PASS' if ok else 'FAIL'} at {big['size']:,} events: audience rebuild/hand-written worst {worst_build:.2f} (need <= 2), "
          f"picks/hand-written {picks_ratio:.2f} (need <= 3), results/hand-written {big['results'] / big['results_floor']:.2f}; "
          f"retention per 100k {small['size'] // 10**6}M->{big['size'] // 10**6}M growth {growth:.2f} (need <= 1.5)")


if __name__ == "__main__":
    main()
