"""Meta custom audiences end to end through ``sync_audience`` against the stand-in in shop_demo/fakeplatforms/audience_meta.py:
the list, its batches, the website twin, the lookalike, and each failure (400, 401, 429, 500, no answer,
a dead worker, Meta's own error codes), opt-out, withdrawn consent and the minimum size."""
from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from shop_demo.fakeplatforms.audience_meta import AD_ACCOUNT, PIXEL, FakeMetaAudiences
from shop_demo.fakeplatforms.audience_meta import settings as meta_settings
from socialshop.audiences.models import AudienceChange, AudienceMember, Destination, RuleKind
from socialshop.audiences.sync import ChangeQueue, queue_changes, sync_audience, sync_twin
from socialshop.platforms import get_platform
from socialshop.platforms.delivery import claim_batch
from socialshop.platforms.http import PlatformAPIError
from socialshop.platforms.meta.audiences import SCHEMA
from socialshop.platforms.models import PlatformStatus
from socialshop.platforms.status import halted_reason
from socialshop.privacy.models import ConsentChoice, ConsentRecord
from socialshop.tracking.models import Event
from tests.audiences.members import audience, built, bulk_members, email_hash, rows, shoppers
from tests.platforms.conftest import server_event

pytestmark = pytest.mark.django_db
USERS = r"/v\d+\.\d+/\d+/users"


@pytest.fixture(scope="module")
def meta_server() -> Iterator[FakeMetaAudiences]:
    server = FakeMetaAudiences().start()
    yield server
    server.stop()


@pytest.fixture
def meta(meta_server: FakeMetaAudiences, settings: Any) -> FakeMetaAudiences:
    meta_server.reset()
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "PLATFORMS": {"meta": meta_settings(meta_server.url)},
                           "FORWARD_BACKOFF_SECONDS": 30}
    return meta_server


def sync(aud: Any) -> Destination:
    sync_audience(aud, get_platform("meta"))
    return Destination.objects.get(audience=aud, platform="meta")


def sent_rows(meta: FakeMetaAudiences, method: str = "POST") -> list[list[str]]:
    return [row for r in meta.calls(method, USERS) if r.status == 200 for row in r.body["payload"]["data"]]


def test_list_is_created_with_its_file_source_and_filled_with_the_fixed_schema(meta: FakeMetaAudiences) -> None:
    shoppers(range(120))
    aud = built(audience())
    dest = sync(aud)
    [create] = [r for r in meta.calls("POST", rf"/v\d+\.\d+/act_{AD_ACCOUNT}/customaudiences") if "rule" not in r.body]
    assert create.body["subtype"] == "CUSTOM" and create.body["customer_file_source"] == "USER_PROVIDED_ONLY"
    assert dest.remote_id == create.answer["id"] and dest.state.startswith("120 sent")
    [add] = meta.calls("POST", USERS)
    assert add.body["payload"]["schema"] == [theirs for theirs, _ in SCHEMA]
    assert all(len(row) == len(SCHEMA) for row in add.body["payload"]["data"])
    assert meta.members(dest.remote_id) == {email_hash(n) for n in range(120)}
    sync(aud)  # nothing changed: no second upload
    assert len(meta.calls("POST", USERS)) == 1


def test_adds_go_in_10000_row_batches_and_removals_in_1000(meta: FakeMetaAudiences) -> None:
    aud = audience()
    bulk_members(aud, range(10_050))
    dest = sync(aud)
    assert [len(r.body["payload"]["data"]) for r in meta.calls("POST", USERS)] == [10_000, 50]
    AudienceMember.objects.filter(audience=aud, visitor_id__in=[f"v-{n}" for n in range(1_005)]).update(left_at=timezone.now())
    sync(aud)
    assert [len(r.body["payload"]["data"]) for r in meta.calls("DELETE", USERS)] == [1_000, 5]
    assert len(meta.members(dest.remote_id)) == 10_050 - 1_005


def test_below_the_minimum_nothing_is_uploaded_and_the_state_says_why(meta: FakeMetaAudiences) -> None:
    shoppers(range(99))
    dest = sync(built(audience()))
    assert not meta.of_kind("list") and not meta.calls("POST", USERS)
    assert dest.remote_id == "" and "99 members can be shared with an identifier Meta matches on, below Meta's minimum of 100" in dest.state


def test_one_bad_record_is_isolated_and_fails_with_metas_message(meta: FakeMetaAudiences) -> None:
    shoppers(range(120))
    meta.poison(email_hash(37), "Invalid entry: row 37 is not a valid hash")
    dest = sync(built(audience()))
    assert meta.members(dest.remote_id) == {email_hash(n) for n in range(120)} - {email_hash(37)}
    [failed] = AudienceChange.objects.filter(status="failed")
    assert failed.visitor_id == "v-37" and failed.reason == "Invalid entry: row 37 is not a valid hash"
    assert rows(destination=dest) == {"sent": 119, "failed": 1}


def test_401_halts_meta_audiences_while_its_events_keep_flowing(meta: FakeMetaAudiences) -> None:
    shoppers(range(120))
    aud = built(audience())
    sync(aud)
    shoppers(range(120, 130))
    built(aud)
    meta.fail(401, match="/users", body={"error": {"message": "Invalid OAuth access token", "code": 190}})
    dest = sync(aud)
    platform = get_platform("meta")
    assert "credentials refused" in dest.state and rows(destination=dest)["pending"] == 10
    assert halted_reason(platform.capability("audiences"))
    assert halted_reason(platform.events) is None
    assert platform.events.send_events([server_event()]).sent == 1 and len(meta.events) == 1
    sync(aud)  # halted: Meta is not called again
    assert len(meta.calls("POST", USERS)) == 2
    status = {s.capability: s for s in PlatformStatus.objects.filter(slug="meta")}
    assert status["audiences"].halted_at and ("events" not in status or not status["events"].halted_at)


def test_no_permission_on_the_ad_account_halts_audiences(meta: FakeMetaAudiences) -> None:
    shoppers(range(120))
    meta.fail(403, match="customaudiences", body={"error": {"message": "Unsupported post request", "code": 100, "error_subcode": 33}})
    dest = sync(built(audience()))
    assert dest.state.startswith("could not create the list") and halted_reason(get_platform("meta").capability("audiences"))


def test_429_puts_rows_back_with_the_retry_after_honoured(meta: FakeMetaAudiences) -> None:
    shoppers(range(120))
    meta.fail(429, match="/users", retry_after="120", body={"error": {"message": "User request limit reached", "code": 17,
                                                                       "error_subcode": 2446079}})
    before = timezone.now()
    dest = sync(built(audience()))
    changes = list(AudienceChange.objects.filter(destination=dest))
    assert {c.status for c in changes} == {"pending"} and len(changes) == 120
    for change in changes:
        assert before + timedelta(seconds=115) < change.next_attempt_at < timezone.now() + timedelta(seconds=125)


def test_500_is_retried_at_a_later_sync(meta: FakeMetaAudiences) -> None:
    shoppers(range(120))
    aud = built(audience())
    meta.fail(500, match="/users")
    dest = sync(aud)
    assert rows(destination=dest) == {"pending": 120} and AudienceChange.objects.filter(attempts=1).count() == 120
    sync(aud)  # not due yet
    assert len(meta.calls("POST", USERS)) == 1
    AudienceChange.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    dest = sync(aud)
    assert rows(destination=dest) == {"sent": 120} and len(meta.members(dest.remote_id)) == 120


def test_a_hanging_meta_times_out_and_is_retried(meta: FakeMetaAudiences, settings: Any) -> None:
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "PLATFORMS": {"meta": meta_settings(meta.url, timeout=0.5)}}
    shoppers(range(120))
    meta.hang(match="/users", seconds=2)
    dest = sync(built(audience()))
    assert meta.hanging == 1 and rows(destination=dest) == {"pending": 120}
    assert "no answer within 0.5 s" in dest.state


def test_a_batch_abandoned_by_a_dead_worker_is_sent_once_after_the_lease(meta: FakeMetaAudiences, settings: Any) -> None:
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "FORWARD_LEASE_SECONDS": 60}
    shoppers(range(120))
    aud = built(audience())
    dest = Destination.objects.create(audience=aud, platform="meta", remote_id=get_platform("meta").capability("audiences")
                                      .create_audience("seeded"))
    queue_changes(dest)
    claim_batch(ChangeQueue(), "meta", size=1000, lease_seconds=60)  # a worker claims the rows, then dies
    sync(aud)
    assert sent_rows(meta) == [] and rows(destination=dest) == {"sending": 120}
    AudienceChange.objects.update(claimed_at=timezone.now() - timedelta(seconds=61))
    sync(aud)
    assert sorted(row[1] for row in sent_rows(meta)) == sorted(email_hash(n) for n in range(120))
    assert rows(destination=dest) == {"sent": 120}


def test_an_opt_out_is_removed_from_the_list_at_the_next_sync(meta: FakeMetaAudiences) -> None:
    shoppers(range(120))
    aud = built(audience())
    dest = sync(aud)
    ConsentRecord.objects.filter(visitor_id="v-7").update(opted_out=True)
    sync(built(aud))
    [delete] = meta.calls("DELETE", USERS)
    assert [row[1] for row in delete.body["payload"]["data"]] == [email_hash(7)]
    assert email_hash(7) not in meta.members(dest.remote_id)


def test_withdrawn_ads_consent_is_removed_at_the_next_sync(meta: FakeMetaAudiences) -> None:
    shoppers(range(120))
    aud = built(audience())
    dest = sync(aud)
    ConsentRecord.objects.filter(visitor_id="v-9").update(ads=ConsentChoice.DENIED)
    sync(aud)
    assert [row[1] for r in meta.calls("DELETE", USERS) for row in r.body["payload"]["data"]] == [email_hash(9)]
    assert len(meta.members(dest.remote_id)) == 119


def test_schema_refusal_fails_the_batch_without_bisecting(meta: FakeMetaAudiences) -> None:
    shoppers(range(120))
    meta.fail(400, match="/users", body={"error": {"message": "Invalid schema for this audience", "code": 2650}})
    dest = sync(built(audience()))
    assert len(meta.calls("POST", USERS)) == 1 and rows(destination=dest) == {"failed": 120}
    assert AudienceChange.objects.first().reason.startswith("schema refused by Meta (#2650)")


def test_a_flagged_audience_waits_an_hour_and_is_not_failed(meta: FakeMetaAudiences) -> None:
    shoppers(range(120))
    meta.fail(400, match="/users", body={"error": {"message": "Audience flagged", "code": 100, "error_subcode": 1713230}})
    dest = sync(built(audience()))
    assert rows(destination=dest) == {"pending": 120} and "flagged" in dest.state
    assert AudienceChange.objects.first().next_attempt_at > timezone.now() + timedelta(minutes=59)


# -- website twins and lookalikes ------------------------------------------------------------------
def test_cart_abandoners_twin_excludes_purchasers_and_follows_the_rule(meta: FakeMetaAudiences) -> None:
    aud = audience(RuleKind.CART_ABANDONERS, params={"min_delay_minutes": 60, "max_delay_minutes": 3 * 24 * 60})
    dest = sync(aud)
    [twin] = meta.of_kind("website")
    assert dest.twin_id == twin["id"] and twin["prefill"] is True
    [create] = [r for r in meta.calls("POST", rf".*/act_{AD_ACCOUNT}/customaudiences") if "rule" in r.body]
    assert "subtype" not in create.body
    rule = create.body["rule"]
    assert rule["inclusions"]["rules"][0]["filter"]["filters"] == [{"field": "event", "operator": "eq", "value": "AddToCart"}]
    assert rule["inclusions"]["rules"][0]["retention_seconds"] == 3 * 86400
    assert rule["inclusions"]["rules"][0]["event_sources"] == [{"id": PIXEL, "type": "pixel"}]
    assert rule["exclusions"]["rules"][0]["filter"]["filters"][0]["value"] == "Purchase"
    assert dest.last_result["twin"]["state"] == "website twin created"
    sync(aud)  # unchanged rule: no call
    assert not meta.calls("POST", rf"/v\d+\.\d+/{dest.twin_id}")
    aud.params = {"min_delay_minutes": 60, "max_delay_minutes": 7 * 24 * 60}
    aud.save()
    dest = sync(aud)
    [update] = meta.calls("POST", rf"/v\d+\.\d+/{dest.twin_id}")
    assert update.body["rule"]["inclusions"]["rules"][0]["retention_seconds"] == 7 * 86400
    assert dest.last_result["twin"]["state"] == "website twin updated" and len(meta.of_kind("website")) == 1


def test_viewers_twin_filters_on_the_chosen_products(meta: FakeMetaAudiences) -> None:
    dest = sync(audience(RuleKind.VIEWERS, params={"products": ["SKU-1", "SKU-2"]}))
    [twin] = meta.of_kind("website")
    filters = twin["rule"]["inclusions"]["rules"][0]["filter"]["filters"]
    assert {"field": "content_ids", "operator": "is_any", "value": ["SKU-1", "SKU-2"]} in filters and dest.twin_id


def test_rules_without_a_pixel_twin_say_why(meta: FakeMetaAudiences) -> None:
    dest = sync(audience(RuleKind.PURCHASERS))
    assert dest.twin_id == "" and "purchasers" in dest.last_result["twin"]["state"]
    assert not meta.of_kind("website")


def test_platform_without_website_audiences_records_the_reason(meta: FakeMetaAudiences, settings: Any) -> None:
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "PLATFORMS": {"google": {"measurement_id": "G-X1", "api_secret": "s"}}}
    dest = Destination.objects.create(audience=audience(), platform="google")
    assert sync_twin(dest, get_platform("google")) == "no website twin: Google's API does not create them"
    assert dest.last_result["twin"]["state"] == "no website twin: Google's API does not create them"


def test_lookalike_is_created_once_the_seed_list_holds_100(meta: FakeMetaAudiences) -> None:
    seed = audience(RuleKind.LOOKALIKE_SEED, params={"lookalike_country": "us", "lookalike_size": 0.01})
    bulk_members(seed, range(99))
    dest = sync(seed)
    assert dest.lookalike_id == "" and "waits for the seed list" in dest.last_result["lookalike"]["state"]
    bulk_members(seed, range(99, 150))
    dest = sync(seed)
    [lookalike] = meta.of_kind("lookalike")
    assert dest.lookalike_id == lookalike["id"] and lookalike["origin"] == dest.remote_id
    assert lookalike["spec"] == {"country": "US", "ratio": 0.01}
    sync(seed)
    assert len(meta.of_kind("lookalike")) == 1 and json.loads(json.dumps(dest.last_result))["lookalike"]["id"]


def test_a_bad_lookalike_size_is_reported_not_sent(meta: FakeMetaAudiences) -> None:
    seed = audience(RuleKind.LOOKALIKE_SEED, params={"lookalike_country": "US", "lookalike_size": 5})
    bulk_members(seed, range(120))
    dest = sync(seed)
    assert "lookalike_size = 5 is not a share from 0.01 to 0.20" in dest.last_result["lookalike"]["state"]
    assert not meta.of_kind("lookalike")


def test_the_stand_in_refuses_what_meta_refuses(meta: FakeMetaAudiences, settings: Any) -> None:
    uploads = get_platform("meta").capability("audiences")
    list_id = uploads.create_audience("Checks")

    def users(method: str, schema: list[str], data: list[list[str]]) -> None:
        uploads.graph_call(method, uploads.graph_path(f"{list_id}/users"), {"payload": {"schema": schema, "data": data}})

    with pytest.raises(PlatformAPIError, match="has 1 columns, schema 2"):
        users("POST", ["EMAIL", "PHONE"], [[email_hash(1)]])
    with pytest.raises(PlatformAPIError, match="is not a lowercase SHA-256 hex digest"):
        users("POST", ["EMAIL"], [["jane@example.com"]])
    with pytest.raises(PlatformAPIError, match="at most 1000"):
        users("DELETE", ["EMAIL"], [[email_hash(n)] for n in range(1_001)])
    users("POST", ["EMAIL"], [[email_hash(1)]])
    with pytest.raises(PlatformAPIError, match="different schema"):  # locked to its first schema (#2650)
        users("POST", ["EMAIL", "PHONE"], [[email_hash(2), ""]])
    with pytest.raises(PlatformAPIError, match="website audiences take no subtype"):
        uploads.graph_call("POST", uploads.account_path("customaudiences"), {"name": "x", "subtype": "CUSTOM", "rule": {}})
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "PLATFORMS": {"meta": meta_settings(meta.url, access_token="revoked")}}
    with pytest.raises(PlatformAPIError) as refused:
        get_platform("meta").capability("audiences").create_audience("x")
    assert refused.value.auth


def test_members_without_an_identifier_meta_takes_are_counted_in_the_state_and_never_sent(meta: FakeMetaAudiences) -> None:
    shoppers(range(120))
    now = timezone.now()
    ConsentRecord.objects.bulk_create([ConsentRecord(visitor_id=f"anon-{n}", ads=ConsentChoice.GRANTED) for n in range(7)])
    Event.objects.bulk_create([Event(event_id=f"anon-{n}", name="PageView", visitor_id=f"anon-{n}", occurred_at=now,
                                     received_at=now, source="browser", may_share=True) for n in range(7)])
    aud = built(audience())
    dest = sync(aud)
    assert aud.members.filter(left_at__isnull=True).count() == 127
    assert dest.state == "120 sent, 0 failed, 0 skipped, 7 without an identifier Meta matches on"
    assert dest.last_result["unmatchable"] == 7 and len(sent_rows(meta)) == 120
    assert not AudienceChange.objects.filter(person__startswith="v:anon-").exists()
