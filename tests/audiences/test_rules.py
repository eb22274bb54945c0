"""Each rule kind built on a hand-made event history whose right members are known, with the edges:
a purchase exactly at the window edge, events before consent, an opted-out visitor, a visitor who
became a known customer at checkout, a customer seen on two devices."""
from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from socialshop.audiences.builder import build_audience
from socialshop.audiences.models import Audience, AudienceMember, BuildStatus, RuleKind
from socialshop.privacy.models import ConsentRecord
from socialshop.tracking.models import Event

pytestmark = pytest.mark.django_db
_seq = itertools.count(1)
NOW = timezone.now()


def ev(name: str, visitor: str, *, ago: timedelta, **fields: Any) -> Event:
    values: dict[str, Any] = {
        "event_id": f"e{next(_seq)}", "name": name, "visitor_id": visitor, "occurred_at": NOW - ago,
        "received_at": NOW - ago, "source": "browser", "may_share": True,
    }
    values.update(fields)
    return Event.objects.create(**values)


def audience(kind: str, **fields: Any) -> Audience:
    return Audience.objects.create(name=kind, slug=f"{kind}-{next(_seq)}", kind=kind, **fields)


def members(aud: Audience) -> set[str]:
    build = build_audience(aud)
    assert build.status == BuildStatus.SUCCEEDED, build.error
    return set(AudienceMember.objects.filter(audience=aud, left_at__isnull=True).values_list("person", flat=True))


H, D = timedelta(hours=1), timedelta(days=1)


def test_visitors_within_the_lookback_and_never_before_consent() -> None:
    ev("PageView", "v-in", ago=2 * D)
    ev("PageView", "v-old", ago=40 * D)
    ev("PageView", "", ago=H)  # before consent: no visitor id
    assert members(audience(RuleKind.VISITORS, lookback_days=30)) == {"v:v-in"}


def test_viewers_of_products_and_of_categories() -> None:
    ev("ViewContent", "v-shoe", ago=H, content_ids=["SKU-1"])
    ev("ViewContent", "v-hat", ago=H, content_ids=["SKU-9", "SKU-7"])
    ev("AddToCart", "v-cart", ago=H, content_ids=["SKU-1"])  # not a view
    assert members(audience(RuleKind.VIEWERS, params={"products": ["SKU-1", "SKU-7"]})) == {"v:v-shoe", "v:v-hat"}


def test_cart_abandoners_between_the_delays_without_a_purchase_since() -> None:
    ev("AddToCart", "v-due", ago=3 * H)
    ev("AddToCart", "v-too-fresh", ago=30 * timedelta(minutes=1))
    ev("AddToCart", "v-too-old", ago=8 * D)
    ev("AddToCart", "v-bought", ago=5 * H)
    ev("Purchase", "v-bought", ago=4 * H, order_id="o-1", value=Decimal("10"))
    ev("AddToCart", "v-bought-before", ago=2 * H)
    ev("Purchase", "v-bought-before", ago=3 * H, order_id="o-2", value=Decimal("10"))
    aud = audience(RuleKind.CART_ABANDONERS, params={"min_delay_minutes": 60, "max_delay_minutes": 7 * 24 * 60})
    assert members(aud) == {"v:v-due", "v:v-bought-before"}


def test_a_purchase_at_the_same_instant_as_the_cart_counts_as_coming_back() -> None:
    cart = ev("AddToCart", "v-edge", ago=2 * H)
    ev("Purchase", "v-edge", ago=2 * H, occurred_at=cart.occurred_at, order_id="o-edge", value=Decimal("5"))
    ev("AddToCart", "v-at-min-delay", ago=H)  # exactly at the minimum delay: included
    aud = audience(RuleKind.CART_ABANDONERS, params={"min_delay_minutes": 60, "max_delay_minutes": 600})
    assert members(aud) == {"v:v-at-min-delay"}


def test_checkout_abandoners() -> None:
    ev("InitiateCheckout", "v-left", ago=2 * H)
    ev("AddToCart", "v-cart-only", ago=2 * H)
    assert members(audience(RuleKind.CHECKOUT_ABANDONERS)) == {"v:v-left"}


def test_post_engagers_by_action_and_by_post() -> None:
    ev("PostLike", "v-like", ago=H, post_id="p1")
    ev("PostSave", "v-save-other", ago=H, post_id="p2")
    ev("PostView", "v-view", ago=H, post_id="p1")  # reach, not engagement
    assert members(audience(RuleKind.POST_ENGAGERS)) == {"v:v-like", "v:v-save-other"}
    assert members(audience(RuleKind.POST_ENGAGERS, params={"posts": ["p1"]})) == {"v:v-like"}
    assert members(audience(RuleKind.POST_ENGAGERS, params={"actions": ["PostSave"]})) == {"v:v-save-other"}


def test_purchasers_by_recency_frequency_and_value() -> None:
    for n, (visitor, ago, value) in enumerate([("v-big", 2 * D, 80), ("v-big", 20 * D, 50), ("v-once", D, 500),
                                               ("v-lapsed", 100 * D, 90), ("v-lapsed", 120 * D, 90)]):
        ev("Purchase", visitor, ago=ago, order_id=f"ord-{n}", value=Decimal(value))
    aud = audience(RuleKind.PURCHASERS, lookback_days=180, params={"recency_days": 30, "min_orders": 2, "min_value": 100})
    assert members(aud) == {"v:v-big"}
    assert members(audience(RuleKind.PURCHASERS, lookback_days=60)) == {"v:v-big", "v:v-once"}


def test_lookalike_seed_takes_the_best_customers_by_value() -> None:
    for n, value in enumerate([10, 20, 30, 400, 500]):
        ev("Purchase", f"v-{value}", ago=D, order_id=f"o-{n}", value=Decimal(value))
    assert members(audience(RuleKind.LOOKALIKE_SEED, lookback_days=90, params={"top_percent": 40})) == {"v:v-500", "v:v-400"}


def test_opted_out_and_gpc_visitors_are_always_left_out() -> None:
    ev("PageView", "v-ok", ago=H)
    ev("PageView", "v-out", ago=H)
    ev("PageView", "v-gpc", ago=H)
    ConsentRecord.objects.create(visitor_id="v-out", opted_out=True)
    ConsentRecord.objects.create(visitor_id="v-gpc", gpc=True)
    assert members(audience(RuleKind.VISITORS)) == {"v:v-ok"}


def test_a_customer_on_two_devices_is_one_member_and_an_opt_out_on_one_removes_them() -> None:
    user = get_user_model().objects.create(username="jane")
    ev("AddToCart", "v-phone", ago=3 * H)
    ev("PageView", "v-laptop", ago=5 * H, user_id=user.pk)  # signed in on the laptop
    ev("PageView", "v-phone", ago=4 * H, user_id=user.pk)  # and once on the phone
    ev("Purchase", "v-laptop", ago=2 * H, order_id="o-j", value=Decimal("30"), user_id=user.pk)
    aud = audience(RuleKind.CART_ABANDONERS)
    assert members(aud) == set()  # carted on the phone, bought on the laptop: the same person came back
    visitors = audience(RuleKind.VISITORS)
    assert members(visitors) == {f"u:{user.pk}"}
    ConsentRecord.objects.create(visitor_id="v-laptop", opted_out=True)
    assert members(visitors) == set()


def test_a_guest_who_checks_out_is_joined_to_their_hashed_email() -> None:
    em = "a" * 64
    ev("AddToCart", "v-guest-phone", ago=5 * H)
    ev("Purchase", "v-guest-laptop", ago=2 * H, order_id="o-g", value=Decimal("9"), user_data={"em": em})
    ev("Purchase", "v-guest-phone", ago=26 * H, order_id="o-g0", value=Decimal("9"), user_data={"em": em})
    assert members(audience(RuleKind.PURCHASERS)) == {f"h:{em}"}
    # The phone's cart (5 h ago) was followed by the laptop purchase (2 h ago): same person, not an abandoner.
    assert members(audience(RuleKind.CART_ABANDONERS)) == set()


def test_exclusions_and_inclusions_combine() -> None:
    ev("AddToCart", "v-a", ago=3 * H)
    ev("AddToCart", "v-b", ago=3 * H)
    ev("Purchase", "v-b", ago=5 * D, order_id="o-b", value=Decimal("1"))
    ev("PostLike", "v-c", ago=H, post_id="p")
    carts = audience(RuleKind.CART_ABANDONERS, exclude_purchasers_days=7)
    assert members(carts) == {"v:v-a"}
    engagers = audience(RuleKind.POST_ENGAGERS)
    members(engagers)
    both = audience(RuleKind.VISITORS, lookback_days=0)
    both.include.add(carts, engagers)
    assert members(both) == {"v:v-a", "v:v-c"}
    both.exclude.add(engagers)
    assert members(both) == {"v:v-a"}


def test_rebuild_records_joins_and_leaves_and_keeps_history() -> None:
    ev("AddToCart", "v-1", ago=3 * H)
    aud = audience(RuleKind.CART_ABANDONERS)
    first = build_audience(aud)
    assert (first.size, first.added, first.removed) == (1, 1, 0)
    ev("Purchase", "v-1", ago=H, order_id="o-1", value=Decimal("3"))
    ev("AddToCart", "v-2", ago=2 * H)
    second = build_audience(aud)
    assert (second.size, second.added, second.removed) == (1, 1, 1)
    left = AudienceMember.objects.get(audience=aud, person="v:v-1")
    assert left.left_at is not None and left.joined_at <= left.left_at
    aud.refresh_from_db()
    assert aud.size == 1


def test_a_failing_build_leaves_the_previous_membership_intact() -> None:
    ev("AddToCart", "v-1", ago=3 * H)
    aud = audience(RuleKind.CART_ABANDONERS)
    build_audience(aud)
    aud.params = {"min_delay_minutes": 600, "max_delay_minutes": 60}  # wrong way round
    aud.save()
    failed = build_audience(aud)
    assert failed.status == BuildStatus.FAILED and "max_delay_minutes" in failed.error
    assert set(AudienceMember.objects.filter(audience=aud, left_at__isnull=True).values_list("person", flat=True)) == {"v:v-1"}




def test_a_rebuild_runs_the_same_statements_for_3_and_60_members_and_stores_its_size() -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def rebuild(aud: Audience) -> tuple[int, int]:
        with CaptureQueriesContext(connection) as queries:
            build = build_audience(aud)
        assert build.status == BuildStatus.SUCCEEDED, build.error
        aud.refresh_from_db()
        assert aud.size == build.size == AudienceMember.objects.filter(audience=aud, left_at__isnull=True).count()
        return len(queries.captured_queries), build.size

    excluded = audience(RuleKind.PURCHASERS)
    aud = audience(RuleKind.VISITORS, lookback_days=30)
    aud.exclude.add(excluded)
    for n in range(3):
        ev("PageView", f"v-few-{n}", ago=H)
    build_audience(aud)
    ev("PageView", "v-few-3", ago=H)
    few, size = rebuild(aud)
    assert size == 4
    for n in range(60):
        ev("PageView", f"v-many-{n}", ago=H)
    many, size = rebuild(aud)
    assert size == 64 and many == few
