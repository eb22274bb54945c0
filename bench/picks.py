"""Picks for a whole campaign (PostgreSQL): ``refresh_picks`` for 100,000 members over 1,000,000 events from
100,000 visitors, against the equivalent hand-written SQL in the same run.

The demo store gets 2,000 products (one variant each, every 25th out of stock, 20 categories); the events
(views, carts, purchases; popular products more often) are loaded in one INSERT ... SELECT generate_series
and folded into ``Interest`` (not timed: the periodic interest pass does it). The campaign's 100,000 members
are inserted in SQL (a tenth held out). Timed, median of ``--repeat`` runs each: ``refresh_picks`` (member
interest, catalogue lookups in chunks for stock and category, related products, one INSERT of every pick,
the product set) and the hand-written floor: one PostgreSQL statement writing the same picks, given the
out-of-stock ids and the related products for free, with the same ``work_mem``. Both must write the same
rows. Last line: the ratio.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ss_picks_bench .venv/bin/python bench/picks.py
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
PRODUCTS = 2000
CATEGORIES = 20
SPAN_DAYS = 30
TARGET = 3.0


def _ensure_database(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    with psycopg.connect(parsed._replace(path="/postgres").geturl(), autocommit=True) as conn:
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


def sql(statement: str, params: list[Any] | None = None, *, fetch: bool = False) -> Any:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])
        return cursor.fetchall() if fetch else cursor.rowcount


def timed(fn: Callable[[], Any], *, repeat: int) -> tuple[float, Any]:
    """Median seconds of ``repeat`` runs (the machine is shared) and the last result."""
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def load_catalogue() -> None:
    from decimal import Decimal

    from shop_demo.store.models import Category, Product, Variant

    sql("TRUNCATE store_variant, store_productimage, store_product, store_category RESTART IDENTITY CASCADE")
    categories = [Category.objects.create(name=f"Category {c}", slug=f"category-{c}") for c in range(CATEGORIES)]
    products = Product.objects.bulk_create([
        Product(name=f"Product {n}", slug=f"product-{n}", category=categories[n % CATEGORIES], price=Decimal("20.00"))
        for n in range(PRODUCTS)])
    Variant.objects.bulk_create([Variant(product=p, sku=f"sku-{n}", size="M", stock=0 if n % 25 == 7 else 5)
                                 for n, p in enumerate(products)])


def load_events(events: int, visitors: int, now: datetime) -> None:
    """``events`` product events (75 % views, 17 % carts, 8 % purchases) from ``visitors`` visitors, in SQL."""
    for table in ("delivery", "interest", "memberpick", "productsetitem", "campaignmember", "visitorlink", "eventcursor"):
        sql(f"TRUNCATE socialshop_{table} CASCADE")
    sql("TRUNCATE socialshop_event CASCADE")
    sql(
        "INSERT INTO socialshop_event (event_id, name, occurred_at, received_at, source, visitor_id, session_id, user_id, "
        "may_share, gpc, url, referrer, content_ids, contents, value, currency, order_id, search_string, post_id, "
        "tag_id, click_ids, utm, browser_ids, user_data, user_agent, ip, properties, created_at, updated_at) "
        "SELECT 'p' || g, x.name, x.at, x.at + interval '2 seconds', 'simulated', x.vid, '', NULL, true, false, "
        "'https://shop.example/', '', jsonb_build_array('sku-' || x.sku), '[]'::jsonb, 20, 'USD', "
        "CASE WHEN x.name = 'Purchase' THEN 'o' || g ELSE '' END, '', '', '', '{}', '{}', '{}', '{}'::jsonb, '', '', '{}', "
        "x.at, x.at FROM generate_series(1, %s::int) g CROSS JOIN LATERAL (SELECT "
        "CASE WHEN mod(abs(hashint4(g)), 100) < 75 THEN 'ViewContent' WHEN mod(abs(hashint4(g)), 100) < 92 THEN 'AddToCart' "
        "ELSE 'Purchase' END AS name, %s::timestamptz + (g::float8 / %s) * interval '" + str(SPAN_DAYS) + " days' AS at, "
        "'v' || lpad(mod(abs(hashint4(g * 7 + 3)), %s)::text, 15, '0') AS vid, "
        "(mod(abs(hashint4(g * 13 + 7)), " + str(PRODUCTS) + ") ^ 2)::bigint / " + str(PRODUCTS) + " AS sku) x",
        [events, now - timedelta(days=SPAN_DAYS), events, visitors])
    sql("VACUUM ANALYZE socialshop_event")


def make_campaign(visitors: int, now: datetime) -> Any:
    from socialshop.campaigns.models import Campaign, CampaignStatus

    Campaign.objects.filter(slug="bench-picks").delete()
    campaign = Campaign.objects.create(name="Bench picks", slug="bench-picks", status=CampaignStatus.RUNNING,
                                       channels=["email"], picks_per_person=4)
    sql("INSERT INTO socialshop_campaignmember (campaign_id, person, holdout, state, qualified_at, landings, updated_at) "
        "SELECT %s, 'v:v' || lpad(n::text, 15, '0'), mod(n, 10) = 0, 'targeted', %s, 0, %s FROM generate_series(0, %s - 1) n",
        [campaign.pk, now, now, visitors])
    sql("ANALYZE socialshop_campaignmember")
    sql("ANALYZE socialshop_interest")
    return campaign


# The floor: the same picks in one PostgreSQL statement written by hand (DISTINCT ON, GREATEST, arrays).
FLOOR = """
WITH m AS (
  SELECT person, substr(person, 3) AS vid FROM socialshop_campaignmember
   WHERE campaign_id = %(c)s AND NOT holdout AND state <> 'left' AND person LIKE 'v:%%'
  UNION ALL
  SELECT cm.person, l.visitor_id FROM socialshop_campaignmember cm JOIN socialshop_visitorlink l ON l.person = cm.person
   WHERE cm.campaign_id = %(c)s AND NOT cm.holdout AND cm.state <> 'left'),
own AS (
  SELECT m.person, i.product_id, max(greatest(i.last_carted_at, i.last_viewed_at)) AS at,
         max(CASE WHEN i.last_carted_at >= coalesce(i.last_viewed_at, '-infinity') THEN 1 ELSE 0 END) AS cl,
         bool_or(i.last_carted_at IS NOT NULL) AS carted, bool_or(i.purchased_at IS NOT NULL) AS bought
    FROM m JOIN socialshop_interest i ON i.visitor_id = m.vid GROUP BY 1, 2),
top AS (
  SELECT person, product_id, carted, row_number() OVER (PARTITION BY person ORDER BY at DESC, cl DESC, product_id) AS rn
    FROM own WHERE NOT bought AND at IS NOT NULL AND NOT (product_id = ANY(%(gone)s))),
rel AS (SELECT * FROM unnest(%(seed)s::text[], %(prod)s::text[], %(why)s::text[], %(pos)s::int[]) AS r(seed, product_id, reason, pos)),
c AS (
  SELECT person, product_id, CASE WHEN carted THEN 'carted' ELSE 'viewed' END AS reason, 0 AS grp, rn AS ord
    FROM top WHERE rn <= %(n)s
  UNION ALL
  SELECT t.person, r.product_id, r.reason, 1, t.rn * 1000 + r.pos FROM top t JOIN rel r ON r.seed = t.product_id
   WHERE t.rn <= %(n)s AND NOT EXISTS (SELECT 1 FROM own o WHERE o.person = t.person AND o.product_id = r.product_id)),
d AS (SELECT DISTINCT ON (person, product_id) person, product_id, reason, grp, ord FROM c ORDER BY person, product_id, grp, ord)
INSERT INTO socialshop_memberpick (campaign_id, person, rank, product_id, reason, created_at)
SELECT %(c)s, person, rk, product_id, reason, now() FROM (
  SELECT d.*, row_number() OVER (PARTITION BY person ORDER BY grp, ord, product_id) AS rk FROM d) x WHERE rk <= %(n)s
"""


def floor(campaign: Any, gone: list[str], rows: list[list[Any]]) -> int:
    from django.db import transaction

    from socialshop.campaigns.picks import PG_WORK_MEM

    with transaction.atomic():
        sql("DELETE FROM socialshop_memberpick WHERE campaign_id = %s", [campaign.pk])
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL work_mem = '{PG_WORK_MEM}'")  # the same memory as refresh_picks
            cursor.execute(FLOOR, {"c": campaign.pk, "gone": gone, "n": campaign.picks_per_person,
                                   "seed": [r[0] for r in rows], "prod": [r[1] for r in rows],
                                   "why": [r[2] for r in rows], "pos": [r[3] for r in rows]})
            return cursor.rowcount


def fingerprint(campaign: Any) -> tuple[int, str]:
    return sql("SELECT count(*), md5(string_agg(person || '/' || rank || '/' || product_id || '/' || reason, ',' "
               "ORDER BY person, rank)) FROM socialshop_memberpick WHERE campaign_id = %s", [campaign.pk], fetch=True)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--visitors", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not args.database_url.startswith("postgres"):
        raise SystemExit("bench/picks.py needs PostgreSQL: set DATABASE_URL=postgres://USER@HOST:PORT/DBNAME (a scratch database)")
    if args.events < 1000 or args.visitors < 100 or args.repeat < 1:
        raise SystemExit("--events >= 1000, --visitors >= 100 and --repeat >= 1")
    _ensure_database(args.database_url)
    _setup(args.database_url)
    from django.utils import timezone

    from socialshop.campaigns.picks import _candidate_products, refresh_picks, related_rows
    from socialshop.tracking.interest import rebuild_interest

    now = timezone.now()
    started = time.perf_counter()
    load_catalogue()
    load_events(args.events, args.visitors, now)
    print(f"loaded {args.events:,} events from {args.visitors:,} visitors and {PRODUCTS:,} products in "
          f"{time.perf_counter() - started:.0f} s", flush=True)
    started = time.perf_counter()
    interest = rebuild_interest()
    print(f"interest rebuilt: {interest.rows:,} rows in {time.perf_counter() - started:.1f} s", flush=True)
    campaign = make_campaign(args.visitors, now)

    ours, result = timed(lambda: refresh_picks(campaign, now=now), repeat=args.repeat)
    mine = fingerprint(campaign)
    print(f"refresh_picks: {ours:.2f} s for {result.persons:,} persons, {result.picks:,} picks, {result.products:,} products",
          flush=True)
    gone, rows = related_rows(_candidate_products(campaign), limit=campaign.picks_per_person)
    hand, written = timed(lambda: floor(campaign, gone, rows), repeat=args.repeat)
    theirs = fingerprint(campaign)
    print(f"hand-written SQL (stock and related given): {hand:.2f} s for {written:,} picks", flush=True)
    if mine != theirs:
        raise SystemExit(f"FAIL: the hand-written SQL wrote other picks ({theirs[0]:,} rows) than refresh_picks ({mine[0]:,})")
    ratio = ours / hand
    verdict = "PASS" if ratio <= TARGET else "FAIL"
    print(f"{verdict} picks for {result.persons:,} members over {args.events:,} events: refresh_picks/hand-written ratio "
          f"{ratio:.2f} (need <= {TARGET:g})")


if __name__ == "__main__":
    main()
