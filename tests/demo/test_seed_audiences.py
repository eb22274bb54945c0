"""The demo seeds the standard audiences and builds them from its simulated traffic; the customer list
is hashed at import (no address in the database)."""
from __future__ import annotations

import pytest
from django.db import connection

from shop_demo.store.seed import SEED_STEPS, seed_store
from shop_demo.store.seed_audiences import CUSTOMER_LIST_CSV, seed_audiences_step
from socialshop.audiences.models import Audience, AudienceBuild, AudienceMember, BuildStatus, CustomerListEntry, RuleKind
from socialshop.tracking.simulate import simulate_traffic

pytestmark = pytest.mark.django_db


@pytest.fixture
def traffic() -> None:
    seed_store(products=12, customers=3)
    simulate_traffic(visitors=400, days=14, seed=7, guest_emails=True)  # as the demo's traffic step


def test_the_seed_runs_the_audience_step_after_the_traffic() -> None:
    names = [step.__name__ for step in SEED_STEPS]
    assert names.index("seed_audiences_step") > names.index("simulate_traffic_step")


def test_the_standard_audiences_are_seeded_and_built_from_the_simulated_traffic(traffic: None) -> None:
    lines: list[str] = []
    seed_audiences_step(lines.append)
    audiences = {a.slug: a for a in Audience.objects.all()}
    assert set(audiences) == {"viewers-14d", "cart-abandoners-7d", "post-engagers-30d", "purchasers-180d",
                              "best-customers-seed", "newsletter-list"}
    assert {a.kind for a in audiences.values()} == {RuleKind.VIEWERS, RuleKind.CART_ABANDONERS, RuleKind.POST_ENGAGERS,
                                                    RuleKind.PURCHASERS, RuleKind.LOOKALIKE_SEED, RuleKind.CUSTOMER_LIST}
    carts = audiences["cart-abandoners-7d"]
    assert carts.params == {"min_delay_minutes": 60, "max_delay_minutes": 7 * 24 * 60} and carts.exclude_purchasers_days
    assert audiences["viewers-14d"].lookback_days == 14 and audiences["purchasers-180d"].lookback_days == 180
    for audience in audiences.values():
        build = AudienceBuild.objects.get(audience=audience)
        assert build.status == BuildStatus.SUCCEEDED, (audience.slug, build.error)
    sizes = {slug: a.size for slug, a in ((s, Audience.objects.get(slug=s)) for s in audiences)}
    assert sizes["viewers-14d"] > 0 and sizes["purchasers-180d"] > 0 and sizes["cart-abandoners-7d"] > 0
    assert 0 < sizes["best-customers-seed"] <= sizes["purchasers-180d"]
    assert sizes["newsletter-list"] == 6 == CustomerListEntry.objects.count()
    assert any("newsletter-list: 6 of 6 rows imported" in line for line in lines)


def test_the_customer_list_keeps_hashes_only(traffic: None) -> None:
    seed_audiences_step(None)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT hashes FROM {CustomerListEntry._meta.db_table}")
        stored = " ".join(str(row[0]) for row in cursor.fetchall())
    for address in ("ada.lovelace@example.com", "Lovelace", "555 0101"):
        assert address in CUSTOMER_LIST_CSV and address not in stored
    assert AudienceMember.objects.filter(audience__slug="newsletter-list", person__startswith="l:").count() == 6


def test_seeding_twice_keeps_the_audiences_and_rebuilds(traffic: None) -> None:
    seed_audiences_step(None)
    seed_audiences_step(None)
    assert Audience.objects.count() == 6 and CustomerListEntry.objects.count() == 6
    assert AudienceBuild.objects.filter(audience__slug="viewers-14d").count() == 2


def test_the_demo_audiences_have_members_every_platform_can_match(traffic: None) -> None:
    """Guests' checkouts carry hashed emails, so a marketer opening an audience sees matchable members."""
    from socialshop.audiences.preview import match_report

    seed_audiences_step(None)
    report = match_report(Audience.objects.get(slug="purchasers-180d"))
    assert report.size > 0
    assert all(p.in_sample > 0 for p in report.platforms), [(p.facts.slug, p.in_sample) for p in report.platforms]
