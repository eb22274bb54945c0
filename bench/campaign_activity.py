"""Campaign activity reads (campaigns/activity.py, the admin activity page) against hand-written SQL.

A campaign with --members people (variants A/B and a 10 % hold-out, every state, emails for half,
codes for a third, two landings for a third) is written with bulk inserts in a throwaway test database
(SQLite by default, PostgreSQL when DATABASE_URL is set). Ours: ``campaign_activity`` (per arm and
state, codes, emails, landings, four per-day series). Baseline, same run: the bare totals in one
hand-written query per table (members per state, emails, codes, landings), without arms or series.
Also the query count at --small and --members people (must be equal). Last line: the figures.
Run: python bench/campaign_activity.py [--members 50000] [--small 5000] [--rounds 3]
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from socialshop.campaigns.activity import campaign_activity  # noqa: E402
from socialshop.campaigns.models import (  # noqa: E402
    Assignment, Campaign, CampaignMember, CampaignStatus, IssuedCode, MemberState, Touch, Variant,
)
from socialshop.tracking.models import Event  # noqa: E402

TARGET = 3.0  # ours may take at most this many times the bare totals


def make_campaign(slug: str, members: int) -> Campaign:
    rng = random.Random(7)
    now = timezone.now()
    campaign = Campaign.objects.create(name=slug, slug=slug, status=CampaignStatus.RUNNING, channels=["email", "meta"])
    variants = [Variant.objects.create(campaign=campaign, name=name) for name in ("A", "B")]
    states = MemberState.values
    assignments, rows, touches, codes, events = [], [], [], [], []
    for i in range(members):
        person = f"v:{slug}-{i:08d}"
        variant = None if rng.random() < 0.1 else rng.choice(variants)
        at = now - timedelta(hours=rng.randint(1, 24 * 20))
        landed = i % 3 == 0
        assignments.append(Assignment(campaign=campaign, person=person, variant=variant, bucket=rng.random(),
                                      qualified_at=at, assigned_at=at))
        rows.append(CampaignMember(campaign=campaign, person=person, holdout=variant is None, state=rng.choice(states),
                                   qualified_at=at, landings=2 if landed else 0, updated_at=now))
        if variant is not None and i % 2 == 0:
            touches.append(Touch(person=person, campaign=campaign, channel="email", at=at + timedelta(hours=1)))
        if variant is not None and i % 3 == 1:
            codes.append(IssuedCode(campaign=campaign, person=person, variant=variant, code=f"{slug}-{i:08d}",
                                    expires_at=now + timedelta(days=7), redeemed_at=now if i % 6 == 1 else None))
        if landed:
            events += [Event(event_id=f"{slug}-{i}-{k}", name="PageView", visitor_id=person[2:][-40:], occurred_at=at,
                             received_at=at, utm={"utm_campaign": slug}) for k in range(2)]
    for model, objs in ((Assignment, assignments), (CampaignMember, rows), (Touch, touches), (IssuedCode, codes),
                        (Event, events)):
        model.objects.bulk_create(objs, batch_size=2000)
    return campaign


def bare_totals(campaign: Campaign) -> tuple:
    t = connection.ops.quote_name
    utm = "(e.utm ->> 'utm_campaign')" if connection.vendor == "postgresql" else "json_extract(e.utm, '$.utm_campaign')"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT state, COUNT(*), SUM(landings) FROM {t(CampaignMember._meta.db_table)} "
                       f"WHERE campaign_id = %s GROUP BY state", [campaign.pk])
        states = cursor.fetchall()
        cursor.execute(f"SELECT COUNT(*) FROM {t(Touch._meta.db_table)} WHERE campaign_id = %s AND channel = 'email'", [campaign.pk])
        emails = cursor.fetchone()
        cursor.execute(f"SELECT COUNT(*), COUNT(redeemed_at) FROM {t(IssuedCode._meta.db_table)} WHERE campaign_id = %s",
                       [campaign.pk])
        codes = cursor.fetchone()
        cursor.execute(f"SELECT COUNT(*) FROM {t(Event._meta.db_table)} e WHERE e.name = 'PageView' AND {utm} = %s",
                       [campaign.slug])
        landings = cursor.fetchone()
    return states, emails, codes, landings


def best(fn, campaign: Campaign, rounds: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn(campaign)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=50_000)
    parser.add_argument("--small", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    old_name = connection.settings_dict["NAME"]
    test_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    print(f"database: {connection.vendor} ({test_name})")
    try:
        run(args)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def run(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    small, big = make_campaign("small", args.small), make_campaign("big", args.members)
    print(f"wrote {args.small + args.members:,} members in {time.perf_counter() - started:.1f} s")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    counts = []
    for campaign in (small, big):
        with CaptureQueriesContext(connection) as captured:
            activity = campaign_activity(campaign)
        counts.append(len(captured))
        assert activity.total.members == CampaignMember.objects.filter(campaign=campaign).count()
    ours = best(campaign_activity, big, args.rounds)
    bare = best(bare_totals, big, args.rounds)
    ratio = ours / bare
    print(f"{args.members:,} members: activity {ours * 1000:.0f} ms, bare totals {bare * 1000:.0f} ms")
    verdict = "PASS" if ratio <= TARGET and counts[0] == counts[1] else "FAIL"
    print(f"{verdict} campaign activity on {connection.vendor}: activity/hand-written time ratio {ratio:.2f} "
          f"(need <= {TARGET}), queries {args.small:,}/{args.members:,} members {counts[0]}/{counts[1]} (constant)")


if __name__ == "__main__":
    main()
