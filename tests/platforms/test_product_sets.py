"""Product sets: Meta's capability against the fake server (endpoint, auth, filter schema, catalogue id,
create then update, failures), the other platforms' UnsupportedFeature, the settings check, and a campaign's
sets made from its feed label (campaigns/product_sets.py)."""
from __future__ import annotations

from typing import Any

import pytest

from shop_demo.fakeplatforms.common import Invalid
from shop_demo.fakeplatforms.meta_catalog import check_rule
from socialshop.campaigns.models import Campaign, CampaignStatus
from socialshop.campaigns.product_sets import SetStatus, sync_product_sets
from socialshop.exceptions import UnsupportedFeature
from socialshop.platforms import REGISTRY, get_platform
from socialshop.platforms.checks import check_platforms
from socialshop.platforms.http import PlatformAPIError
from socialshop.platforms.product_sets import SetRule
from tests.campaigns.conftest import make_campaign
from tests.feeds.conftest import make_feed
from tests.fakes.platforms import CREDENTIALS, FakePlatforms


@pytest.fixture
def catalog(fake: FakePlatforms) -> FakePlatforms:
    fake.meta_catalog.sets.clear()
    return fake


def meta_sets() -> Any:
    return get_platform("meta").capability("product_sets")


def test_meta_creates_a_set_filtered_on_the_label_and_updates_it(catalog: FakePlatforms) -> None:
    sets = meta_sets()
    set_id = sets.create_product_set("Cart reminder (cart)", SetRule("custom_label_2", "cart"))
    assert catalog.meta_catalog.sets[set_id] == {"name": "Cart reminder (cart)", "filter": {"custom_label_2": {"eq": "cart"}}}
    sets.update_product_set(set_id, "Renamed", SetRule("custom_label_0", "cart"))
    assert catalog.meta_catalog.sets[set_id] == {"name": "Renamed", "filter": {"custom_label_0": {"eq": "cart"}}}


def test_meta_product_sets_refused_token_wrong_catalogue_and_server_errors(catalog: FakePlatforms, settings: Any) -> None:
    with pytest.raises(PlatformAPIError) as retry:
        catalog.fail("meta", 500)
        meta_sets().create_product_set("x", SetRule("custom_label_0", "x"))
    assert retry.value.retryable and not catalog.meta_catalog.sets
    with pytest.raises(PlatformAPIError) as limited:
        catalog.fail("meta", 400, body={"error": {"message": "too many calls to this Catalog account", "code": 80009}})
        meta_sets().create_product_set("x", SetRule("custom_label_0", "x"))
    assert limited.value.retryable
    platforms = settings.SOCIALSHOP["PLATFORMS"]
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "PLATFORMS": {**platforms, "meta": {**platforms["meta"], "catalog_id": "111"}}}
    with pytest.raises(PlatformAPIError) as foreign:
        meta_sets().create_product_set("x", SetRule("custom_label_0", "x"))
    assert foreign.value.auth and "does not exist" in foreign.value.message
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "PLATFORMS": {**platforms, "meta": {**platforms["meta"], "access_token": "revoked"}}}
    with pytest.raises(PlatformAPIError) as refused:
        meta_sets().create_product_set("x", SetRule("custom_label_0", "x"))
    assert refused.value.auth and not catalog.meta_catalog.sets


@pytest.mark.parametrize("rule, error", [
    ({"custom_label_9": {"eq": "x"}}, "not a field"),
    ({"custom_label_0": {"like": "x"}}, "not a product set operator"),
    ({"custom_label_0": {"eq": ""}}, "not a valid value"),
    ({"custom_label_0": {"eq": "x"}, "brand": {"eq": "y"}}, "exactly one field"),
    ({"and": []}, "non-empty list"),
    ({"or": [{"custom_label_0": {"is_any": ["a", 1]}}]}, "not a valid value"),
    ("custom_label_0 = x", "exactly one field"),
])
def test_the_fake_refuses_filters_meta_would_refuse(rule: Any, error: str) -> None:
    with pytest.raises(Invalid, match=error):
        check_rule(rule)


def test_a_bad_filter_sent_to_the_fake_is_a_400_and_stores_nothing(catalog: FakePlatforms) -> None:
    sets = meta_sets()
    sets.set_filter = lambda rule: {rule.label_field: {"contains_word": rule.value}}  # type: ignore[method-assign]
    with pytest.raises(PlatformAPIError) as refused:
        sets.create_product_set("x", SetRule("custom_label_0", "x"))
    assert refused.value.status == 400 and "operator" in refused.value.message and not catalog.meta_catalog.sets


def test_set_rules_name_a_custom_label_and_a_value() -> None:
    with pytest.raises(ValueError, match="custom_label_5"):
        SetRule("custom_label_5", "x")
    with pytest.raises(ValueError, match="label value"):
        SetRule("custom_label_0", "")


@pytest.mark.parametrize("slug", [s for s in REGISTRY if s != "meta"])
def test_platforms_without_a_product_set_api_say_so(slug: str, fake: FakePlatforms) -> None:
    with pytest.raises(UnsupportedFeature, match=f"{REGISTRY[slug].name} does not support product_sets"):
        get_platform(slug).capability("product_sets")


def test_a_catalog_id_that_is_not_a_number_fails_the_check(settings: Any) -> None:
    platforms = settings.SOCIALSHOP["PLATFORMS"]
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "PLATFORMS": {**platforms, "meta": {**platforms["meta"], "catalog_id": "cat-1"}}}
    errors = [e for e in check_platforms() if e.id == "socialshop.E165"]
    assert len(errors) == 1 and "['catalog_id'] = 'cat-1'" in errors[0].msg


@pytest.mark.django_db
def test_a_campaign_gets_its_set_once_from_the_feed_label_and_an_update_when_the_slot_moves(catalog: FakePlatforms) -> None:
    campaign = make_campaign(channels=["email", "meta", "pinterest"])
    results = sync_product_sets(campaign)
    assert results["meta"]["status"] == SetStatus.NO_LABEL and "feed admin" in results["meta"]["message"]
    assert results["pinterest"]["status"] == SetStatus.UNSUPPORTED and not catalog.meta_catalog.sets
    feed = make_feed("meta", "csv", custom_labels=[{"rule": "on_sale"}, {"rule": "product_set"}])
    sync_product_sets(campaign)
    stored = Campaign.objects.get(pk=campaign.pk).product_sets["meta"]
    assert stored["status"] == SetStatus.OK and stored["label_field"] == "custom_label_1"
    assert catalog.meta_catalog.sets[stored["id"]]["filter"] == {"custom_label_1": {"eq": campaign.slug}}
    calls = len(catalog.requests)
    sync_product_sets(campaign)  # unchanged: no call
    assert len(catalog.requests) == calls
    feed.custom_labels = [{"rule": "product_set"}]
    feed.save()
    sync_product_sets(campaign)
    assert list(catalog.meta_catalog.sets.values()) == [{"name": f"{campaign.name} ({campaign.slug})",
                                                         "filter": {"custom_label_0": {"eq": campaign.slug}}}]
    catalog.fail("meta", 500)
    after = sync_product_sets(campaign, force=True)["meta"]
    assert after["status"] == SetStatus.ERROR and after["id"] == stored["id"] and "temporary" in after["message"]


@pytest.mark.django_db
def test_a_campaign_that_does_not_run_makes_no_set_and_a_platform_without_a_catalog_is_off(catalog: FakePlatforms, settings: Any) -> None:
    make_feed("meta", "csv", custom_labels=[{"rule": "product_set"}])
    assert sync_product_sets(make_campaign(channels=["meta"], status=CampaignStatus.PAUSED)) == {}
    platforms = settings.SOCIALSHOP["PLATFORMS"]
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "PLATFORMS": {**platforms, "meta": {
        k: v for k, v in platforms["meta"].items() if k != "catalog_id"}}}
    result = sync_product_sets(make_campaign(channels=["meta"]))["meta"]
    assert result["status"] == SetStatus.OFF and "['catalog_id']" in result["message"]
    assert not catalog.meta_catalog.sets and CREDENTIALS["meta"]["catalog_id"]


@pytest.mark.django_db
def test_the_periodic_refresh_makes_the_set_of_each_running_campaign(catalog: FakePlatforms) -> None:
    from socialshop.campaigns.targeting import refresh_live_campaigns

    make_feed("meta", "xml", custom_labels=[None, None, None, {"rule": "product_set"}])
    campaign = make_campaign(channels=["meta"])
    refresh_live_campaigns(campaign.slug)
    stored = Campaign.objects.get(pk=campaign.pk).product_sets["meta"]
    assert catalog.meta_catalog.sets[stored["id"]]["filter"] == {"custom_label_3": {"eq": campaign.slug}}
