"""TikTok customer-file audiences through ``sync_audience`` against the stand-in (shop_demo/fakeplatforms/audience_tiktok.py):
the audience is created from the first file of 1,000 or more, later files APPEND or REMOVE with an explicit
action, the 1,000 floor keeps removals back with a reason, and every failure ends where it should."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from shop_demo.fakeplatforms.audience_tiktok import FakeTikTokAudiences
from socialshop.audiences.models import AudienceChange, Destination
from socialshop.audiences.sync import sync_audience
from socialshop.platforms import get_platform
from socialshop.platforms.models import PlatformStatus
from socialshop.platforms.tiktok.audiences import FLOOR_REASON, PENDING_PREFIX
from socialshop.privacy.models import ConsentRecord
from socialshop.tracking.forwarding import forward_events
from socialshop.tracking.outbox import create_deliveries
from tests.audiences.uploads import (
    add_entries, build, change_states, consented_visitor, drop_entries, email_hash, list_audience, server_purchase, sha,
)
from tests.fakes.platforms import FakePlatforms

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[FakeTikTokAudiences, FakePlatforms]]:
    tiktok, events = FakeTikTokAudiences(), FakePlatforms().start()
    yield tiktok, events
    tiktok.stop()
    events.stop()


@pytest.fixture
def tfake(servers: tuple[FakeTikTokAudiences, FakePlatforms], settings: Any) -> FakeTikTokAudiences:
    """The audience stand-in, emptied; TikTok's events go to the events stand-in, audiences here."""
    tiktok, events = servers
    with tiktok.lock:
        tiktok.files.clear(), tiktok.audiences.clear(), tiktok.updates.clear(), tiktok.faults.clear(), tiktok.requests.clear()
    entry = {**events.settings("tiktok")["tiktok"], **tiktok.settings()}
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "PLATFORMS": {"tiktok": entry}, "FORWARD_BACKOFF_SECONDS": 30}
    return tiktok


def sync(audience: Any) -> Any:
    return sync_audience(audience, get_platform("tiktok"), max_seconds=60)


def remote_id(audience: Any) -> str:
    return Destination.objects.get(audience=audience, platform="tiktok").remote_id


def test_first_upload_creates_the_audience_from_the_first_file_then_appends(tfake: FakeTikTokAudiences, settings: Any) -> None:
    entry = settings.SOCIALSHOP["PLATFORMS"]["tiktok"]
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "PLATFORMS": {"tiktok": {**entry, "audience_retention_days": 90}}}
    audience = list_audience(2500)
    result = sync(audience)
    assert (result.drain.sent, result.drain.batches) == (2500, 1)  # one claim fills one file (the capability's batch limit)
    [audience_id] = tfake.audiences
    assert remote_id(audience) == audience_id
    created = tfake.audiences[audience_id]
    assert created["name"] == audience.name and created["calculate_type"] == "EMAIL_SHA256"
    assert created["retention_in_days"] == 90
    assert created["members"] == {email_hash(n) for n in range(2500)}
    assert tfake.updates == []  # the first file created it whole
    assert len(tfake.calls_to("/file/upload/")) == 1 and len(tfake.calls_to("/create/")) == 1


def test_a_rebuild_sends_only_the_changes_with_explicit_actions(tfake: FakeTikTokAudiences) -> None:
    audience = list_audience(1200)
    sync(audience)
    [audience_id] = tfake.audiences
    tfake.updates.clear()
    drop_entries(audience, range(0, 10))
    add_entries(audience, range(5000, 5005))
    build(audience)
    result = sync(audience)
    assert (result.queued_adds, result.queued_removes, result.drain.sent) == (5, 10, 15)
    assert tfake.updates == [{"action": "APPEND", "files": 1, "size": 1205}, {"action": "REMOVE", "files": 1, "size": 1195}]
    assert tfake.members(audience_id) == {email_hash(n) for n in [*range(10, 1200), *range(5000, 5005)]}


def test_an_opt_out_is_removed_at_the_next_sync(tfake: FakeTikTokAudiences) -> None:
    audience = list_audience(1100)
    consented_visitor(audience, "vis-tt", "tt@example.com")
    sync(audience)
    [audience_id] = tfake.audiences
    assert sha("tt@example.com") in tfake.members(audience_id)
    ConsentRecord.objects.filter(visitor_id="vis-tt").update(opted_out=True)
    result = sync(audience)
    assert (result.queued_removes, result.drain.sent) == (1, 1)
    assert sha("tt@example.com") not in tfake.members(audience_id) and len(tfake.members(audience_id)) == 1100


def test_a_removal_below_1000_is_kept_back_with_the_reason_until_the_audience_grows(tfake: FakeTikTokAudiences) -> None:
    audience = list_audience(1000)
    sync(audience)
    [audience_id] = tfake.audiences
    drop_entries(audience, range(0, 5))
    build(audience)
    result = sync(audience)
    assert (result.drain.sent, result.drain.failed) == (0, 5)
    assert len(tfake.members(audience_id)) == 1000  # TikTok refused; nothing half-done
    assert all(r.startswith(FLOOR_REASON) for r in AudienceChange.objects.filter(status="failed").values_list("reason", flat=True))
    destination = Destination.objects.get(audience=audience)
    assert destination.last_result["batches"][-1]["refused"][0].startswith(FLOOR_REASON)
    assert destination.state == "0 sent, 5 failed, 0 skipped"
    # Once the audience has grown, the same removals go through at the next sync.
    add_entries(audience, range(3000, 3010))
    build(audience)
    result = sync(audience)
    assert (result.queued_adds, result.queued_removes, result.drain.sent) == (10, 5, 15)
    assert tfake.members(audience_id) == {email_hash(n) for n in [*range(5, 1000), *range(3000, 3010)]}


def test_an_audience_is_not_created_from_a_first_batch_under_1000(tfake: FakeTikTokAudiences) -> None:
    # 1,000 can be shared, but 5 have only a phone, which an email audience cannot match.
    audience = list_audience(1000, hashes=lambda n: {"ph_e164": sha(f"+1{n}")} if n < 5 else {"em": email_hash(n)})
    result = sync(audience)
    assert (result.drain.skipped, result.drain.failed, result.drain.sent) == (5, 995, 0)
    assert not tfake.audiences and not tfake.calls_to("/file/upload/")
    assert remote_id(audience).startswith(PENDING_PREFIX)
    reason = AudienceChange.objects.filter(status="failed").values_list("reason", flat=True).first()
    assert reason == "TikTok creates an audience from at least 1,000 people and this batch had 995: tried again at the next sync"


def test_a_bad_record_is_isolated_and_the_rest_appended(tfake: FakeTikTokAudiences) -> None:
    audience = list_audience(1100)
    sync(audience)
    [audience_id] = tfake.audiences
    add_entries(audience, range(7000, 7004), hashes=lambda n: {"em": "NOT-A-HASH" if n == 7002 else email_hash(n)})
    build(audience)
    result = sync(audience)
    assert (result.drain.sent, result.drain.failed) == (3, 1)
    failed = AudienceChange.objects.get(status="failed")
    assert "is not a SHA-256 hex digest" in failed.reason
    assert len(tfake.members(audience_id)) == 1103


def test_a_refused_token_halts_audiences_only_while_events_still_flow(tfake: FakeTikTokAudiences) -> None:
    audience = list_audience(1000)
    tfake.fail(401, match="/file/upload/")
    result = sync(audience)
    assert result.drain.stopped.startswith("credentials refused")
    assert change_states() == {"pending": 1000}
    server_purchase()
    create_deliveries()
    assert forward_events(platform="tiktok")["tiktok"].sent == 1
    halted = dict(PlatformStatus.objects.filter(slug="tiktok").values_list("capability", "halted_at"))
    assert halted["audiences"] is not None and halted["events"] is None
    assert sync(audience).drain.stopped.startswith("halted")


def test_a_revoked_token_code_in_a_200_answer_halts_too(tfake: FakeTikTokAudiences, settings: Any) -> None:
    entry = settings.SOCIALSHOP["PLATFORMS"]["tiktok"]
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "PLATFORMS": {"tiktok": {**entry, "audiences_access_token": "revoked"}}}
    result = sync(list_audience(1000))
    assert result.drain.stopped.startswith("credentials refused") and "code 40105" in result.drain.stopped


def test_429_waits_for_retry_after(tfake: FakeTikTokAudiences) -> None:
    audience = list_audience(1000)
    tfake.fail(429, retry_after="120", match="/file/upload/")
    result = sync(audience)
    assert result.drain.stopped.startswith("retry later") and result.drain.sent == 0
    due = set(AudienceChange.objects.values_list("next_attempt_at", flat=True))
    assert all(d is not None and d > timezone.now() + timedelta(seconds=100) for d in due)


def test_500_is_retried_later(tfake: FakeTikTokAudiences) -> None:
    audience = list_audience(1000)
    tfake.fail(500, match="/create/")
    result = sync(audience)
    assert result.drain.retried == 1000 and not tfake.audiences
    assert set(AudienceChange.objects.values_list("status", "attempts", "error_status")) == {("pending", 1, 500)}
    AudienceChange.objects.update(next_attempt_at=None)
    assert sync(audience).drain.sent == 1000 and len(tfake.audiences) == 1


def test_no_answer_times_out_and_is_retried(tfake: FakeTikTokAudiences, settings: Any) -> None:
    entry = settings.SOCIALSHOP["PLATFORMS"]["tiktok"]
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "PLATFORMS": {"tiktok": {**entry, "timeout": 0.5}}}
    audience = list_audience(1000)
    tfake.hang(match="/file/upload/", seconds=2.0)
    result = sync(audience)
    assert "no answer within 0.5 s" in result.drain.stopped  # the client gave up; it did not wait for the late answer
    assert change_states() == {"pending": 1000}


def test_a_list_larger_than_one_file_is_created_then_appended(tfake: FakeTikTokAudiences, monkeypatch: Any) -> None:
    from socialshop.platforms.tiktok.audiences import TikTokAudiences

    monkeypatch.setattr(TikTokAudiences, "batch_limit", 1000)
    audience = list_audience(2500)
    result = sync(audience)
    assert (result.drain.sent, result.drain.batches) == (2500, 3)  # files of 1,000: create, APPEND, APPEND
    [audience_id] = tfake.audiences
    assert tfake.audiences[audience_id]["members"] == {email_hash(n) for n in range(2500)}
    assert [u["action"] for u in tfake.updates] == ["APPEND", "APPEND"]


def test_no_audience_is_opened_while_fewer_than_1000_can_be_matched_however_many_can_be_shared(
        tfake: FakeTikTokAudiences) -> None:
    # Found by running the demo: 1,988 shareable engagers, 330 with an email; each sync marked the 330 failed.
    audience = list_audience(0)
    for n in range(300):
        consented_visitor(audience, f"buyer-{n}", f"person{n}@example.com")
    for n in range(900):  # shareable visitors who never left an email or phone
        ConsentRecord.objects.create(visitor_id=f"browser-{n}", ads="granted", analytics="granted")
        audience.members.create(person=f"v:browser-{n}", visitor_id=f"browser-{n}", joined_at=timezone.now(), reason="test")
    result = sync(audience)
    assert result.drain is None and remote_id(audience) == ""
    assert result.state == ("300 members can be shared with an identifier TikTok matches on, below TikTok's minimum "
                            "of 1000: not uploaded")
    assert not AudienceChange.objects.exists() and not tfake.requests
    # Once 1,000 can be matched, the audience is created from them at the next sync.
    for n in range(300, 1000):
        consented_visitor(audience, f"buyer-{n}", f"person{n}@example.com")
    result = sync(audience)
    assert result.drain is not None and result.drain.sent == 1000 and not remote_id(audience).startswith(PENDING_PREFIX)
    assert tfake.members(remote_id(audience)) == {email_hash(n) for n in range(1000)}
