"""Pinterest audiences end to end through ``sync_audience`` against shop_demo/fakeplatforms/audience_pinterest.py:
customer list, CUSTOMER_LIST audience, ADD/REMOVE patches, visitor twins, actalikes and the failures."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from shop_demo.fakeplatforms.audience_pinterest import TAG_ID, FakePinterestAudiences
from shop_demo.fakeplatforms.audience_pinterest import settings as pinterest_settings
from socialshop.audiences.models import AudienceChange, Destination, RuleKind
from socialshop.audiences.sync import sync_audience
from socialshop.platforms import get_platform
from socialshop.platforms.http import PlatformAPIError
from socialshop.platforms.pinterest.audiences import PLACEHOLDER
from socialshop.platforms.status import halted_reason
from socialshop.privacy.models import ConsentRecord
from tests.audiences.members import audience, built, bulk_members, email_hash, rows, shoppers
from tests.platforms.conftest import server_event

pytestmark = pytest.mark.django_db
LIST = r"/v5/ad_accounts/\d+/customer_lists/\d+"


@pytest.fixture(scope="module")
def pinterest_server() -> Iterator[FakePinterestAudiences]:
    server = FakePinterestAudiences().start()
    yield server
    server.stop()


@pytest.fixture
def pinterest(pinterest_server: FakePinterestAudiences, settings: Any) -> FakePinterestAudiences:
    pinterest_server.reset()
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "PLATFORMS": {"pinterest": pinterest_settings(pinterest_server.url)},
                           "FORWARD_BACKOFF_SECONDS": 30}
    return pinterest_server


def sync(aud: Any) -> Destination:
    sync_audience(aud, get_platform("pinterest"))
    return Destination.objects.get(audience=aud, platform="pinterest")


def patched(pinterest: FakePinterestAudiences, operation: str) -> list[list[str]]:
    return [r.body["records"].split(",") for r in pinterest.calls("PATCH", LIST)
            if r.body["operation_type"] == operation and r.body["records"] != PLACEHOLDER and r.status == 200]


def test_list_is_created_patched_and_made_a_customer_list_audience(pinterest: FakePinterestAudiences) -> None:
    aud = audience(RuleKind.PURCHASERS)  # purchasers: no visitor twin, only the list
    bulk_members(aud, range(120))
    dest = sync(aud)
    list_id, audience_id = dest.remote_id.split(":")
    [create] = pinterest.calls("POST", r"/v5/ad_accounts/\d+/customer_lists")
    assert create.body["list_type"] == "EMAIL" and create.body["records"] == PLACEHOLDER
    assert pinterest.audiences[audience_id]["rule"] == {"customer_list_id": list_id}
    assert pinterest.audiences[audience_id]["audience_type"] == "CUSTOMER_LIST"
    assert pinterest.lists[list_id] == {email_hash(n) for n in range(120)}  # the placeholder is gone


def test_members_are_added_and_removed_as_comma_separated_hashes(pinterest: FakePinterestAudiences) -> None:
    shoppers(range(120))
    aud = built(audience())
    dest = sync(aud)
    list_id = dest.remote_id.split(":")[0]
    [added] = patched(pinterest, "ADD")
    assert sorted(added) == sorted(email_hash(n) for n in range(120))
    assert pinterest.lists[list_id] == {email_hash(n) for n in range(120)}
    ConsentRecord.objects.filter(visitor_id="v-3").update(opted_out=True)
    sync(built(aud))
    assert patched(pinterest, "REMOVE") == [[email_hash(3)]] and email_hash(3) not in pinterest.lists[list_id]


def test_adds_are_batched_at_the_record_limit(pinterest: FakePinterestAudiences) -> None:
    aud = audience(RuleKind.PURCHASERS)
    bulk_members(aud, range(10_020))
    sync(aud)
    assert [len(records) for records in patched(pinterest, "ADD")] == [10_000, 20]


def test_below_100_nothing_is_created(pinterest: FakePinterestAudiences) -> None:
    shoppers(range(60))
    dest = sync(built(audience(RuleKind.PURCHASERS)))
    assert not pinterest.lists and "below Pinterest's minimum of 100" in dest.state


def test_visitors_get_a_visitor_twin_on_the_tag(pinterest: FakePinterestAudiences) -> None:
    dest = sync(audience(lookback_days=30))
    [twin] = pinterest.of_type("VISITOR")
    assert dest.twin_id == twin["id"]
    assert twin["rule"]["visitor_source_id"] == [TAG_ID] and twin["rule"]["retention_days"] == 30
    assert "event" not in twin["rule"] and twin["rule"]["prefill"] is True


def test_cart_abandoners_get_no_twin_on_pinterest_and_the_reason_is_kept(pinterest: FakePinterestAudiences) -> None:
    dest = sync(audience(RuleKind.CART_ABANDONERS))
    assert not pinterest.of_type("VISITOR") and dest.twin_id == ""
    assert dest.last_result["twin"]["state"] == (
        "no website twin: Pinterest does not support website audiences that exclude an action (one tag event, no exclusions)")


def test_actalike_seeded_by_the_customer_list_audience(pinterest: FakePinterestAudiences) -> None:
    seed = audience(RuleKind.LOOKALIKE_SEED, params={"lookalike_country": "GB", "lookalike_size": 0.03})
    bulk_members(seed, range(150))
    dest = sync(seed)
    [actalike] = pinterest.of_type("ACTALIKE")
    assert dest.lookalike_id == actalike["id"]
    assert actalike["rule"] == {"seed_id": [dest.remote_id.split(":")[1]], "country": "GB", "percentage": 3}


def test_one_bad_record_is_isolated(pinterest: FakePinterestAudiences) -> None:
    shoppers(range(120))
    pinterest.poison(email_hash(50), "Invalid records: 1 record is not a valid SHA-256")
    dest = sync(built(audience()))
    assert rows(destination=dest) == {"sent": 119, "failed": 1}
    assert AudienceChange.objects.get(status="failed").reason == "Invalid records: 1 record is not a valid SHA-256"


def test_401_halts_pinterest_audiences_while_events_keep_flowing(pinterest: FakePinterestAudiences) -> None:
    aud = audience(RuleKind.PURCHASERS)
    bulk_members(aud, range(120))
    sync(aud)
    bulk_members(aud, range(500, 620))
    pinterest.fail(401, match="PATCH", body={"code": 2, "message": "Authentication failed."})
    dest = sync(aud)
    platform = get_platform("pinterest")
    assert "credentials refused" in dest.state and halted_reason(platform.capability("audiences"))
    assert halted_reason(platform.events) is None
    assert platform.events.send_events([server_event()]).sent == 1 and len(pinterest.events) == 1


def test_429_and_500_put_rows_back_for_later(pinterest: FakePinterestAudiences) -> None:
    aud = audience(RuleKind.PURCHASERS)
    bulk_members(aud, range(120))
    sync(aud)
    AudienceChange.objects.all().delete()
    bulk_members(aud, range(1000, 1120))
    pinterest.fail(429, match="PATCH", retry_after="90", body={"code": 8, "message": "Rate limit exceeded"})
    dest = sync(aud)
    change = AudienceChange.objects.filter(destination=dest).first()
    assert rows(destination=dest) == {"pending": 120} and change.next_attempt_at > timezone.now() + timedelta(seconds=80)
    AudienceChange.objects.update(next_attempt_at=None)
    pinterest.fail(500, match="PATCH")
    assert rows(destination=sync(aud)) == {"pending": 120}
    AudienceChange.objects.update(next_attempt_at=None)
    assert rows(destination=sync(aud)) == {"sent": 120}


def test_the_stand_in_refuses_what_pinterest_refuses(pinterest: FakePinterestAudiences, settings: Any) -> None:
    uploads = get_platform("pinterest").capability("audiences")
    list_id, _ = uploads.create_audience("Checks").split(":")
    with pytest.raises(PlatformAPIError, match="is not a lowercase SHA-256 hex digest"):
        uploads.api("PATCH", f"customer_lists/{list_id}", {"operation_type": "ADD", "records": "jane@example.com"})
    with pytest.raises(PlatformAPIError, match="is not ADD or REMOVE"):
        uploads.api("PATCH", f"customer_lists/{list_id}", {"operation_type": "REPLACE", "records": email_hash(1)})
    with pytest.raises(PlatformAPIError, match="at most 10000"):
        uploads.api("PATCH", f"customer_lists/{list_id}", {"operation_type": "ADD",
                                                           "records": ",".join(email_hash(n) for n in range(10_001))})
    with pytest.raises(PlatformAPIError, match="percentage must be 1-10"):
        uploads.api("POST", "audiences", {"name": "x", "audience_type": "ACTALIKE",
                                          "rule": {"seed_id": [list(pinterest.audiences)[0]], "country": "US", "percentage": 20}})
    events_token = pinterest_settings(pinterest.url)["access_token"]
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "PLATFORMS": {"pinterest": pinterest_settings(
        pinterest.url, audiences_access_token=events_token)}}  # the conversion token does not reach audiences
    with pytest.raises(PlatformAPIError) as refused:
        get_platform("pinterest").capability("audiences").create_audience("x")
    assert refused.value.auth


def test_a_refused_token_on_the_twin_halts_website_audiences_only(pinterest: FakePinterestAudiences) -> None:
    pinterest.fail(401, match="POST /v5/ad_accounts/549755885175/audiences", body={"code": 2, "message": "Authentication failed."})
    aud = audience()
    dest = sync(aud)
    platform = get_platform("pinterest")
    assert dest.twin_id == "" and dest.last_result["twin"]["state"].startswith("website twin not in step: Pinterest: HTTP 401")
    assert halted_reason(platform.capability("website_audiences")) and halted_reason(platform.capability("audiences")) is None
    dest = sync(aud)  # halted: not called again until the token changes
    assert dest.last_result["twin"]["state"].startswith("website twin halted, credentials refused")
    assert not pinterest.of_type("VISITOR")
