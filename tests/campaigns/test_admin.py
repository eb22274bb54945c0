"""Campaign admin (basic): the list shows status, audiences, members, hold-out share and codes; the
form says clearly when no discount adapter is configured; variants are edited inline."""
from __future__ import annotations

import pytest

from socialshop.campaigns.incentives import issue_code
from socialshop.campaigns.targeting import refresh_campaign
from tests.campaigns.conftest import H, NOW, join, make_audience, make_campaign, with_incentive

pytestmark = pytest.mark.django_db


def test_the_list_shows_members_holdout_share_and_codes(admin_client) -> None:  # type: ignore[no-untyped-def]
    audience = make_audience("cart-abandoners")
    campaign = with_incentive(make_campaign(audience, holdout_percent=0, name="Come back"))
    for i in range(4):
        join(audience, f"v:admin-{i}", qualified_at=NOW - 2 * H)
    refresh_campaign(campaign)
    issue_code(campaign, person="v:admin-0", variant=campaign.variants.first())
    page = admin_client.get("/admin/socialshop/campaign/").content.decode()
    assert "Come back" in page and "cart-abandoners" in page and "running" in page
    assert "0.0% (0%)" in page and "1 (0)" in page


def test_the_form_says_when_campaigns_run_without_codes(admin_client, settings) -> None:  # type: ignore[no-untyped-def]
    campaign = with_incentive(make_campaign())
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "DISCOUNT_ADAPTER": ""}
    page = admin_client.get(f"/admin/socialshop/campaign/{campaign.pk}/change/").content.decode()
    assert "No discount adapter" in page and "Variants" in page
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "DISCOUNT_ADAPTER": "shop_demo.store.discounts.DemoDiscountAdapter"}
    page = admin_client.get(f"/admin/socialshop/campaign/{campaign.pk}/change/").content.decode()
    assert "No discount adapter" not in page and "issued through the store" in page
