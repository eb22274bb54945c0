"""The campaign page previews its creatives per variant (thumbnails linking to the story size) with the last
run's status and result; the "Render ad creatives now" action renders and reports the summary."""
from __future__ import annotations

from typing import Any

import pytest

from socialshop.campaigns.creatives.builder import render_ads
from socialshop.campaigns.models import Creative, CreativeRun
from tests.campaigns.test_creatives_builder import campaign_with_members, product, viewed, viewer

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _own_media_root(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")


def test_the_campaign_page_shows_the_last_run_and_thumbnails_per_variant(admin_client: Any) -> None:
    campaign = campaign_with_members()
    viewed(viewer(0), product("Shirt"))
    page = admin_client.get(f"/admin/socialshop/campaign/{campaign.pk}/change/").content.decode()
    assert "Never rendered" in page and f"socialshop_render_ads {campaign.slug}" in page
    render_ads(campaign)
    page = admin_client.get(f"/admin/socialshop/campaign/{campaign.pk}/change/").content.decode()
    assert "Last render: done" in page and "1 products x 2 variants x 3 sizes: 6 drawn" in page
    assert "Variant A" in page and "Variant B" in page
    for creative in Creative.objects.filter(campaign=campaign, size="square"):
        assert f'src="{creative.file.url}"' in page
    for creative in Creative.objects.filter(campaign=campaign, size="story"):
        assert f'href="{creative.file.url}"' in page


def test_a_failed_run_shows_its_reason(admin_client: Any, settings: Any) -> None:
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "BRAND_LOGO": "/nonexistent/logo.png"}
    campaign = campaign_with_members(variants=(("A", 1),))
    render_ads(campaign, product_ids=[product("Shirt")])
    page = admin_client.get(f"/admin/socialshop/campaign/{campaign.pk}/change/").content.decode()
    assert "Last render: failed" in page and "BRAND_LOGO" in page and "cannot be read" in page


def test_the_action_renders_now_and_reports_the_summary(admin_client: Any) -> None:
    campaign = campaign_with_members(variants=(("A", 1),))
    viewed(viewer(1), product("Shirt"))
    response = admin_client.post("/admin/socialshop/campaign/", {"action": "render_ads_now", "_selected_action": [campaign.pk]},
                                 follow=True)
    notes = [str(m) for m in response.context["messages"]]
    assert notes == [f"{campaign.slug}: 1 products x 1 variants x 3 sizes: 3 drawn, 0 unchanged, 0 with a placeholder picture"], notes
    assert CreativeRun.objects.get(campaign=campaign).ok and Creative.objects.filter(campaign=campaign).count() == 3
