"""Campaign results at scale: ``results_for`` + ``timeline`` (what the dashboard runs) against a hand-written
floor in the same run: one SQL statement counting members, converted members and revenue per arm within
the attribution window (the least any results page must read). Also the queries at 1,000 and at full size.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ss_results python bench/campaign_results.py [--members 100000]
    (BENCH_EXPLAIN=1 also prints the per-arm query's plan)

Loads members and events with bulk inserts into a throw-away test database; prints the ratio last.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop_demo.settings")
os.environ["SHOP_DEMO_VAR"] = tempfile.mkdtemp(prefix="ss-bench-results-")
os.environ["DJANGO_DEBUG"] = "0"

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from socialshop.campaigns.models import Assignment, Campaign, CampaignStatus, Variant  # noqa: E402
from socialshop.campaigns.results import results_for, timeline  # noqa: E402
from socialshop.tracking.models import Event  # noqa: E402

FLOOR = """
SELECT a.variant_id, COUNT(*), COUNT(p.person), COALESCE(SUM(p.rev), 0) FROM socialshop_assignment a
LEFT JOIN (SELECT x.person AS person, SUM(e.value) AS rev FROM socialshop_assignment x
           JOIN socialshop_event e ON e.name = 'Purchase' AND e.visitor_id = substr(x.person, 3)
           AND e.occurred_at >= x.assigned_at AND e.occurred_at < x.assigned_at + INTERVAL '7 days'
           WHERE x.campaign_id = %s GROUP BY x.person) p ON p.person = a.person
WHERE a.campaign_id = %s GROUP BY a.variant_id
"""


def load(campaign: Campaign, members: int, *, seed: int = 3) -> int:
    rng = random.Random(seed)
    a, b = list(campaign.variants.order_by("pk"))
    start = timezone.now() - timedelta(days=10)
    rows, events = [], []
    for i in range(members):
        at = start + timedelta(seconds=rng.uniform(0, 7 * 86400))
        bucket = rng.random()
        variant = None if bucket < 0.1 else (a if bucket < 0.55 else b)
        rows.append(Assignment(campaign=campaign, person=f"v:{campaign.slug}{i}", variant=variant, bucket=bucket, qualified_at=at, assigned_at=at))
        if variant is not None and rng.random() < 0.35:
            when = at + timedelta(hours=rng.uniform(1, 40))
            events.append(Event(event_id=f"{campaign.slug}-l{i}", name="PageView", visitor_id=f"{campaign.slug}{i}", occurred_at=when, received_at=when,
                                utm={"utm_campaign": campaign.slug}, click_ids={"fbclid": "x"} if i % 2 else {}))
        if rng.random() < (0.06 if variant is None else 0.09):
            when = at + timedelta(hours=rng.uniform(1, 200))
            events.append(Event(event_id=f"{campaign.slug}-p{i}", name="Purchase", visitor_id=f"{campaign.slug}{i}", occurred_at=when, received_at=when,
                                value=Decimal(rng.randrange(1000, 9000)) / 100, currency="USD", order_id=f"{campaign.slug}-o{i}"))
        if i % 3 == 0:  # other shoppers' traffic the queries must skip
            when = at + timedelta(hours=2)
            events.append(Event(event_id=f"{campaign.slug}-v{i}", name="ViewContent", visitor_id=f"other{i}", occurred_at=when, received_at=when))
    Assignment.objects.bulk_create(rows, batch_size=5000)
    Event.objects.bulk_create(events, batch_size=5000)
    with connection.cursor() as cursor:
        for table in ("socialshop_assignment", "socialshop_event"):
            cursor.execute(f"ANALYZE {table}")
    return len(events)


def campaign_with(members: int, slug: str) -> Campaign:
    campaign = Campaign.objects.create(name=slug, slug=slug, status=CampaignStatus.RUNNING, holdout_percent=10)
    for name in ("A", "B"):
        Variant.objects.create(campaign=campaign, name=name)
    started = time.monotonic()
    events = load(campaign, members)
    print(f"{slug}: {members:,} members, {events:,} events loaded in {time.monotonic() - started:.1f} s")
    return campaign


def median_seconds(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("campaign_results.py measures PostgreSQL: set DATABASE_URL")
    old_name = connection.settings_dict["NAME"]
    test_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    print(f"database: {connection.vendor} ({test_name})")
    try:
        small, big = campaign_with(1_000, "small"), campaign_with(args.members, "big")
        counts = []
        for campaign in (small, big):
            with CaptureQueriesContext(connection) as queries:
                results_for([campaign])
                timeline(campaign)
            counts.append(len(queries))
        ours = median_seconds(lambda: (results_for([big]), timeline(big)), args.repeat)
        arms = median_seconds(lambda: results_for([big]), args.repeat)
        if os.environ.get("BENCH_EXPLAIN"):
            from socialshop.campaigns import results as module  # the plan of the per-arm query, for tuning

            with CaptureQueriesContext(connection) as queries:
                module._arm_rows([big])
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS OFF) " + queries.captured_queries[-1]["sql"])
                print("\n".join(r[0] for r in cursor.fetchall()))
        with connection.cursor() as cursor:
            floor = median_seconds(lambda: (cursor.execute(FLOOR, [big.pk, big.pk]), cursor.fetchall()), args.repeat)
        results = results_for([big])[big.pk]
        print(f"results: {results.members:,} members, exposed conversions {results.exposed.conversions:,}, "
              f"hold-out {results.holdout.conversions:,}; lift {results.conversion_lift.lift:+.1%}: {results.conversion_lift.verdict}")
        print(f"queries: {counts[0]} at 1,000 members, {counts[1]} at {args.members:,} (constant: {counts[0] == counts[1]})")
        print(f"results_for + timeline {ours:.3f} s (results_for alone {arms:.3f} s), hand-written floor {floor:.3f} s")
        print(f"results/hand-written floor ratio at {args.members:,} members: {ours / floor:.2f}")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
