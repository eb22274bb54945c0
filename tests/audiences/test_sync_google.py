"""Google Customer Match through ``sync_audience`` against the Data Manager stand-in (shop_demo/fakeplatforms/audience_google.py):
the list is created, members go in batches with their consent, only changes follow, and every failure
(400, 401, 429, 500, no answer, an expired or refused OAuth token) ends where it should."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from shop_demo.fakeplatforms.audience_google import FakeGoogleAudiences
from socialshop.audiences.models import AudienceChange, Destination, DestinationMember
from socialshop.audiences.sync import sync_audience
from socialshop.platforms import get_platform
from socialshop.platforms.google import oauth
from socialshop.platforms.google.audiences import GoogleAudiences
from socialshop.platforms.models import PlatformStatus
from socialshop.privacy.models import ConsentChoice, ConsentRecord
from socialshop.tracking.forwarding import forward_events
from socialshop.tracking.outbox import create_deliveries
from tests.audiences.uploads import (
    add_entries, build, change_states, consented_visitor, drop_entries, email_hash, list_audience, server_purchase, sha,
)
from tests.fakes.platforms import FakePlatforms

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[FakeGoogleAudiences, FakePlatforms]]:
    google, events = FakeGoogleAudiences(), FakePlatforms().start()
    yield google, events
    google.stop()
    events.stop()


@pytest.fixture
def gfake(servers: tuple[FakeGoogleAudiences, FakePlatforms], settings: Any, monkeypatch: pytest.MonkeyPatch) -> FakeGoogleAudiences:
    """The Data Manager stand-in, emptied; Google's events go to the events stand-in, audiences here; small batches."""
    google, events = servers
    with google.lock:
        google.lists.clear(), google.tokens.clear(), google.faults.clear(), google.requests.clear()
        google.refuse_refresh, google.refreshes = False, 0
    oauth.clear_cache()
    monkeypatch.setattr(GoogleAudiences, "batch_limit", 40)
    monkeypatch.setattr(GoogleAudiences, "remove_batch_limit", 40)
    monkeypatch.setattr(GoogleAudiences, "min_size", 10)
    entry = {**events.settings("google")["google"], **google.settings()}
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "PLATFORMS": {"google": entry}, "FORWARD_BACKOFF_SECONDS": 30}
    return google


def sync(audience: Any) -> Any:
    return sync_audience(audience, get_platform("google"), max_seconds=30)


def test_first_upload_creates_the_list_and_sends_every_member_in_batches(gfake: FakeGoogleAudiences) -> None:
    # Every tenth person has a gmail-normalised hash (em_google) and a phone; Google takes those.
    def hashes(n: int) -> dict[str, str]:
        extra = {"em_google": sha(f"gmail{n}@gmail.com"), "ph_e164": sha(f"+1650555{n:04d}")} if n % 10 == 0 else {}
        return {"em": email_hash(n), **extra}

    audience = list_audience(100, hashes=hashes)
    result = sync(audience)
    assert (result.drain.sent, result.drain.batches) == (100, 3)  # 40 + 40 + 20
    destination = Destination.objects.get(audience=audience, platform="google")
    [list_id] = gfake.lists
    assert destination.remote_id == list_id and gfake.lists[list_id]["displayName"] == audience.name
    expected = {sha(f"gmail{n}@gmail.com") if n % 10 == 0 else email_hash(n) for n in range(100)}
    assert gfake.members(list_id) == expected
    assert {"phoneNumber": sha("+16505550010")} in [{"phoneNumber": v[1]} for v in gfake.lists[list_id]["members"].values()
                                                    if len(v) > 1]
    # Each batch keeps Google's requestId for admin.
    request_ids = [b["requestId"] for b in destination.last_result["batches"]]
    assert len(request_ids) == 3 and set(request_ids) <= set(gfake.request_ids)
    # One access token served the create and the three ingests, and the next sync (a new platform instance).
    assert gfake.refreshes == 1
    assert sync(audience).drain.sent == 0 and gfake.refreshes == 1


def test_a_rebuild_sends_only_the_changes(gfake: FakeGoogleAudiences) -> None:
    audience = list_audience(60)
    sync(audience)
    [list_id] = gfake.lists
    ingests_before = len(gfake.calls_to(":ingest"))
    drop_entries(audience, range(0, 5))
    add_entries(audience, range(100, 103))
    build(audience)
    result = sync(audience)
    assert (result.queued_adds, result.queued_removes, result.drain.sent) == (3, 5, 8)
    assert len(gfake.calls_to(":ingest")) == ingests_before + 1 and len(gfake.calls_to(":remove")) == 1
    assert gfake.members(list_id) == {email_hash(n) for n in [*range(5, 60), *range(100, 103)]}


def test_an_opt_out_is_removed_at_the_next_sync_and_refused_consent_never_sent(gfake: FakeGoogleAudiences) -> None:
    audience = list_audience(20)
    consented_visitor(audience, "vis-yes", "yes@example.com")
    consented_visitor(audience, "vis-no", "no@example.com", ads=ConsentChoice.DENIED)
    sync(audience)
    [list_id] = gfake.lists
    assert sha("yes@example.com") in gfake.members(list_id)
    assert sha("no@example.com") not in gfake.members(list_id)
    ConsentRecord.objects.filter(visitor_id="vis-yes").update(opted_out=True)
    result = sync(audience)
    assert (result.queued_removes, result.drain.sent) == (1, 1)
    assert sha("yes@example.com") not in gfake.members(list_id) and len(gfake.members(list_id)) == 20


def test_a_bad_record_is_isolated_and_the_rest_sent(gfake: FakeGoogleAudiences) -> None:
    audience = list_audience(30, hashes=lambda n: {"em": "not-a-sha256" if n == 7 else email_hash(n)})
    result = sync(audience)
    assert (result.drain.sent, result.drain.failed) == (29, 1)
    failed = AudienceChange.objects.get(status="failed")
    assert failed.error_status == 400 and "is not a hex SHA-256 digest" in failed.reason
    assert len(gfake.members(next(iter(gfake.lists)))) == 29


def test_a_refused_token_halts_audiences_only_while_events_still_flow(gfake: FakeGoogleAudiences) -> None:
    audience = list_audience(20)
    gfake.fail(401, times=2, match=":ingest")  # refused, then refused again with a fresh token
    result = sync(audience)
    assert result.drain.stopped.startswith("credentials refused")
    assert gfake.refreshes == 2  # one refresh, not a loop
    assert change_states() == {"pending": 20}  # nothing lost
    server_purchase()
    create_deliveries()
    assert forward_events(platform="google")["google"].sent == 1
    halted = dict(PlatformStatus.objects.filter(slug="google").values_list("capability", "halted_at"))
    assert halted["audiences"] is not None and halted["events"] is None
    # The halt holds on the same credentials even once Google would answer.
    assert sync(audience).drain.stopped.startswith("halted")


def test_429_waits_for_retry_after(gfake: FakeGoogleAudiences) -> None:
    audience = list_audience(20)
    gfake.fail(429, retry_after="120", match=":ingest")
    result = sync(audience)
    assert result.drain.stopped.startswith("retry later") and result.drain.sent == 0
    due = list(AudienceChange.objects.values_list("next_attempt_at", flat=True))
    assert all(d is not None and d > timezone.now() + timedelta(seconds=100) for d in due)
    assert not PlatformStatus.objects.filter(slug="google", halted_at__isnull=False).exists()


def test_500_is_retried_later(gfake: FakeGoogleAudiences) -> None:
    audience = list_audience(20)
    gfake.fail(500, match=":ingest")
    result = sync(audience)
    assert result.drain.retried == 20 and result.drain.sent == 0
    assert set(AudienceChange.objects.values_list("status", "attempts", "error_status")) == {("pending", 1, 500)}
    AudienceChange.objects.update(next_attempt_at=None)
    assert sync(audience).drain.sent == 20


def test_no_answer_times_out_and_is_retried(gfake: FakeGoogleAudiences, settings: Any) -> None:
    entry = settings.SOCIALSHOP["PLATFORMS"]["google"]
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "PLATFORMS": {"google": {**entry, "timeout": 0.5}}}
    audience = list_audience(20)
    sync(audience)  # creates the list
    AudienceChange.objects.all().delete()
    DestinationMember.objects.all().delete()  # as if nothing had been sent yet
    gfake.hang(match=":ingest", seconds=2.0)
    result = sync(audience)
    assert "no answer within 0.5 s" in result.drain.stopped  # the client gave up; it did not wait for the late answer
    assert change_states() == {"pending": 20}


def test_an_expired_token_is_refreshed_once(gfake: FakeGoogleAudiences) -> None:
    audience = list_audience(20)
    sync(audience)
    gfake.expire_tokens()
    add_entries(audience, range(50, 55))
    build(audience)
    result = sync(audience)
    assert result.drain.sent == 5 and not result.drain.stopped
    assert gfake.refreshes == 2


def test_a_refused_refresh_halts_with_the_reason(gfake: FakeGoogleAudiences) -> None:
    audience = list_audience(20)
    sync(audience)
    gfake.expire_tokens()
    gfake.refuse_refresh = True
    add_entries(audience, range(50, 55))
    build(audience)
    result = sync(audience)
    assert result.drain.stopped == "credentials refused: OAuth refresh refused: invalid_grant: Token has been expired or revoked."
    status = PlatformStatus.objects.get(slug="google", capability="audiences")
    assert status.halted_at is not None and "invalid_grant" in status.last_error
    assert change_states(status="pending") == {"pending": 5}
