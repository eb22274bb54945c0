"""API resource ``campaigns``: create with audiences and variants, validation as a 400, stats with the
counts per variant and hold-out and members per state, refresh needs its permission, a variant with
assigned members cannot be deleted."""
from __future__ import annotations

import pytest

from socialshop.campaigns.models import Assignment, Campaign
from tests.api.conftest import basic_client, make_user
from tests.campaigns.conftest import H, NOW, join, make_audience, make_campaign

pytestmark = pytest.mark.django_db
BASE = "/socialshop/api/campaigns/"


def test_create_a_campaign_and_its_variants_then_read_the_stats() -> None:
    make_user("root", superuser=True)
    client = basic_client("root")
    audience = make_audience()
    for i in range(30):
        join(audience, f"v:api-{i}", qualified_at=NOW - 2 * H)
    response = client.post(BASE, {"name": "Carts", "slug": "carts", "audiences": [audience.pk], "channels": ["email"],
                                  "status": "running", "holdout_percent": 20}, format="json")
    assert response.status_code == 201, response.json()
    campaign_id = response.json()["id"]
    assert response.json()["effective_status"] == "running"
    for name, weight in (("A", 1), ("B", 3)):
        created = client.post("/socialshop/api/campaign-variants/", {"campaign": campaign_id, "name": name, "weight": weight},
                              format="json")
        assert created.status_code == 201, created.json()
    refreshed = client.post(f"{BASE}{campaign_id}/refresh/")
    assert refreshed.status_code == 200 and refreshed.json()["assigned"] == 30
    stats = client.get(f"{BASE}{campaign_id}/stats/").json()
    assert [arm["name"] for arm in stats["arms"]] == ["hold-out", "A", "B"]
    assert [arm["expected_share"] for arm in stats["arms"]] == pytest.approx([0.2, 0.2, 0.6])
    assert sum(arm["assigned"] for arm in stats["arms"]) == 30 == stats["assigned"]
    assert sum(stats["states"].values()) == 30 and stats["states"]["targeted"] == 30
    assert isinstance(stats["sample_ratio_mismatch"], bool)


@pytest.mark.parametrize("body, field", [
    ({"channels": ["fax"]}, "channels"),
    ({"incentive_kind": "percent", "incentive_amount": "150"}, "incentive_amount"),
    ({"incentive_currency": "euro"}, "incentive_currency"),
    ({"holdout_percent": 95}, "holdout_percent"),
])
def test_invalid_campaigns_are_a_400_naming_the_field(body: dict, field: str) -> None:
    make_user("root", superuser=True)
    audience = make_audience()
    response = basic_client("root").post(BASE, {"name": "X", "slug": "x", "audiences": [audience.pk], **body}, format="json")
    assert response.status_code == 400 and field in response.json(), response.json()


def test_refresh_needs_its_permission_and_reading_needs_view() -> None:
    campaign = make_campaign()
    make_user("viewer", perms=("view_campaign",))
    client = basic_client("viewer")
    assert client.get(f"{BASE}{campaign.pk}/stats/").status_code == 200
    assert client.post(f"{BASE}{campaign.pk}/refresh/").status_code == 403
    assert basic_client("nobody").get(BASE).status_code == 401


def test_a_variant_with_assigned_members_cannot_be_deleted() -> None:
    make_user("root", superuser=True)
    audience = make_audience()
    campaign = make_campaign(audience, holdout_percent=0)
    join(audience, "v:kept", qualified_at=NOW - 2 * H)
    basic_client("root").post(f"{BASE}{campaign.pk}/refresh/")
    variant = Assignment.objects.get(campaign=campaign).variant
    response = basic_client("root").delete(f"/socialshop/api/campaign-variants/{variant.pk}/")
    assert response.status_code == 409 and "weight to 0" in response.json()["detail"]
    assert Campaign.objects.filter(pk=campaign.pk).exists()
