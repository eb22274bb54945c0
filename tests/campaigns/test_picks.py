"""Picks per member: order (latest first, a cart before a view at equal times), bought and out-of-stock
products left out, top-ups (bought together, then same category), persons across devices, the hold-out,
a campaign that stops, the product set, and a constant number of queries whatever the number of members."""
from __future__ import annotations

from datetime import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from socialshop.audiences.models import AudienceMember, VisitorLink
from socialshop.campaigns.models import CampaignStatus, MemberPick
from socialshop.campaigns.picks import picks_for_person, refresh_picks
from socialshop.campaigns.targeting import refresh_campaign
from socialshop.feeds.models import ProductSetItem
from socialshop.tracking.interest import rebuild_interest
from tests.campaigns.conftest import H, NOW, event, join, make_audience, make_campaign
from tests.factories import CategoryFactory, ProductFactory, VariantFactory

pytestmark = pytest.mark.django_db


def sku(name: str, *, category=None, stock: int = 5) -> str:  # type: ignore[no-untyped-def]
    """A catalogue item (one variant of its own product) whose catalog id is ``name``."""
    product = ProductFactory(category=category or CategoryFactory())
    VariantFactory(product=product, sku=name, stock=stock)
    return name


def visitor(n: int | str) -> str:
    return f"visitor-{str(n):0>8}"


def act(name: str, who: str, product: str, at: datetime) -> None:
    event(name, who, at=at, content_ids=[product])


def picks(campaign, person: str) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return list(MemberPick.objects.filter(campaign=campaign, person=person).order_by("rank").values_list("product_id", "reason"))


def running_campaign(persons: list[str], **fields):  # type: ignore[no-untyped-def]
    audience = make_audience()
    for person in persons:
        join(audience, person, qualified_at=NOW - 2 * H)
    campaign = make_campaign(audience, holdout_percent=0, **fields)
    refresh_campaign(campaign, now=NOW)
    return campaign


def test_picks_are_latest_first_carts_before_views_at_equal_times_without_bought_or_out_of_stock() -> None:
    a, b, c, f, g, bought, empty = (sku("sku-a"), sku("sku-b"), sku("sku-c"), sku("sku-f"), sku("sku-g"),
                                    sku("sku-bought"), sku("sku-empty", stock=0))
    v = visitor(1)
    act("ViewContent", v, a, NOW - 5 * H)
    act("AddToCart", v, b, NOW - 3 * H)
    act("ViewContent", v, c, NOW - 2 * H)
    act("ViewContent", v, empty, NOW - H)  # the latest, but out of stock
    act("ViewContent", v, bought, NOW - 4 * H)
    act("Purchase", v, bought, NOW - 3.5 * H)
    act("ViewContent", v, f, NOW - 6 * H)  # same time as the cart of g: the cart comes first
    act("AddToCart", v, g, NOW - 6 * H)
    act("ViewContent", v, "not-in-the-catalogue", NOW - 1.5 * H)
    rebuild_interest()
    campaign = running_campaign([f"v:{v}"], picks_per_person=5)
    assert picks(campaign, f"v:{v}") == [(c, "viewed"), (b, "carted"), (a, "viewed"), (g, "carted"), (f, "viewed")]
    campaign.picks_per_person = 2
    campaign.save()
    refresh_campaign(campaign, now=NOW)
    assert picks(campaign, f"v:{v}") == [(c, "viewed"), (b, "carted")]


def test_picks_are_topped_up_with_products_bought_together_then_popular_ones_of_the_same_category() -> None:
    shoes, bags = CategoryFactory(name="Shoes"), CategoryFactory(name="Bags")
    boot, sock, sandal, clog, gone = (sku("boot", category=shoes), sku("sock", category=bags),
                                      sku("sandal", category=shoes), sku("clog", category=shoes),
                                      sku("gone", category=shoes, stock=0))
    me = visitor("me")
    act("ViewContent", me, boot, NOW - H)
    for i in range(3):  # others bought the boot with socks
        act("Purchase", visitor(f"buyer{i}"), boot, NOW - 5 * H)
        act("Purchase", visitor(f"buyer{i}"), sock, NOW - 5 * H)
    for i in range(4):  # the out-of-stock shoe is the most popular, then sandals, then clogs
        act("ViewContent", visitor(f"looker{i}"), gone, NOW - 5 * H)
    for i in range(3):
        act("ViewContent", visitor(f"looker{i}"), sandal, NOW - 5 * H)
    act("ViewContent", visitor("looker0"), clog, NOW - 5 * H)
    rebuild_interest()
    campaign = running_campaign([f"v:{me}"], picks_per_person=3)
    assert picks(campaign, f"v:{me}") == [(boot, "viewed"), (sock, "bought_together"), (sandal, "same_category")]
    campaign.picks_per_person = 4
    campaign.save()
    refresh_campaign(campaign, now=NOW)
    assert picks(campaign, f"v:{me}")[3] == (clog, "same_category")


def test_a_customer_gets_picks_from_every_device_and_nothing_bought_on_any_of_them() -> None:
    phone, laptop = visitor("phone"), visitor("laptop")
    for v in (phone, laptop):
        VisitorLink.objects.create(visitor_id=v, person="u:42", user_id=42, linked_at=NOW - 9 * H)
    hat, scarf, coat = sku("hat"), sku("scarf"), sku("coat")
    act("ViewContent", phone, hat, NOW - 3 * H)
    act("AddToCart", laptop, scarf, NOW - 2 * H)
    act("ViewContent", phone, coat, NOW - H)
    act("Purchase", laptop, coat, NOW - 0.5 * H)  # bought on the laptop: not picked from the phone's view
    rebuild_interest()
    campaign = running_campaign(["u:42"])
    assert picks(campaign, "u:42") == [(scarf, "carted"), (hat, "viewed")]
    assert [r.id for r in picks_for_person(campaign, "u:42")] == [scarf, hat]
    assert picks_for_person(campaign, "u:nobody") == []


def test_the_hold_out_gets_no_picks_and_a_stopped_campaign_keeps_none() -> None:
    shirt = sku("shirt")
    reached, held = visitor("reached"), visitor("held")
    for v in (reached, held):
        act("ViewContent", v, shirt, NOW - 3 * H)
    rebuild_interest()
    campaign = running_campaign([f"v:{reached}", f"v:{held}"])
    campaign.members.filter(person=f"v:{held}").update(holdout=True)
    result = refresh_picks(campaign, now=NOW)
    assert (result.persons, result.picks, result.products) == (1, 1, 1)
    assert picks(campaign, f"v:{held}") == []
    assert list(ProductSetItem.objects.values_list("name", "product_id", "weight")) == [(campaign.slug, shirt, 1)]
    campaign.status = CampaignStatus.PAUSED
    campaign.save()
    refresh_campaign(campaign, now=NOW)
    assert not MemberPick.objects.filter(campaign=campaign).exists()
    assert not ProductSetItem.objects.filter(name=campaign.slug).exists()


def test_a_campaign_without_members_or_interest_gets_no_picks_and_no_error() -> None:
    campaign = running_campaign([])
    assert refresh_picks(campaign, now=NOW).picks == 0
    campaign = running_campaign([f"v:{visitor('idle')}"])
    assert refresh_picks(campaign, now=NOW).persons == 0


def test_picks_take_the_same_number_of_queries_for_10_and_300_members() -> None:
    products = [sku(f"item-{i}", category=CategoryFactory()) for i in range(6)]
    counts = []
    for n in (10, 300):
        audience = make_audience()
        people = [visitor(f"{n}m{i}") for i in range(n)]
        AudienceMember.objects.bulk_create([AudienceMember(audience=audience, person=f"v:{v}", qualified_at=NOW - 2 * H,
                                                           joined_at=NOW - 2 * H) for v in people])
        for i, v in enumerate(people):
            act("ViewContent", v, products[i % 6], NOW - 3 * H)
            act("AddToCart", v, products[(i + 1) % 6], NOW - 2 * H)
        rebuild_interest()
        campaign = make_campaign(audience, holdout_percent=0)
        refresh_campaign(campaign, now=NOW)
        with CaptureQueriesContext(connection) as queries:
            result = refresh_picks(campaign, now=NOW)
        assert result.persons == n
        counts.append(len(queries.captured_queries))
    assert counts[0] == counts[1]
    assert counts[0] <= 15
