"""Preparing an upload (audiences/sync.py ``ChangeQueue``): claimed changes become records with the hashes the
store holds (audiences/identity.py), in a constant number of queries whatever the claim's size; members no
platform can match are counted and never queued. The numbers behind it are bench/audiences.py's."""
from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from django.contrib.auth import get_user_model

from socialshop.audiences.identity import identifiers, refresh_identity
from socialshop.audiences.models import (
    AudienceChange, AudienceMember, CustomerListEntry, Destination, DestinationMember, IdentityHash,
)
from socialshop.audiences.sync import ChangeQueue, queue_changes, unmatchable_count
from socialshop.platforms import REGISTRY
from socialshop.platforms.delivery import claim_batch
from socialshop.privacy.hashing import hash_user_data
from socialshop.privacy.models import ConsentChoice, ConsentRecord
from socialshop.tracking.models import Event
from tests.audiences.members import audience, built, shoppers

pytestmark = pytest.mark.django_db
META = {"ad_account_id": "act_1234567890", "access_token": "t", "pixel_id": "1"}


def anonymous(numbers: range) -> None:
    """Consenting visitors without any hashed data: members no platform can match."""
    now = timezone.now() - timedelta(hours=2)
    ConsentRecord.objects.bulk_create([ConsentRecord(visitor_id=f"a-{n}", ads=ConsentChoice.GRANTED,
                                                     analytics=ConsentChoice.GRANTED) for n in numbers],
                                      ignore_conflicts=True)
    Event.objects.bulk_create([Event(event_id=f"anon-{n}", name="PageView", visitor_id=f"a-{n}", occurred_at=now,
                                     received_at=now, source="browser", may_share=True) for n in numbers])


def prepared(count: int) -> tuple[int, list[tuple[Any, Any]], dict[str, list[int]], Destination]:
    """Queue and claim the upload of an audience of ``count`` matchable and ``count // 4`` unmatchable visitors;
    returns (queries ``prepare`` took, its records, its skips, the destination)."""
    shoppers(range(count))
    anonymous(range(count // 4))
    aud = built(audience())
    destination = Destination.objects.create(audience=aud, platform="meta", remote_id="600")
    queue_changes(destination)
    queue, uploads = ChangeQueue(), REGISTRY["meta"](META).capability("audiences")
    token, rows = claim_batch(queue, "meta", size=10_000, lease_seconds=60)
    with CaptureQueriesContext(connection) as queries:
        sendable, skip = queue.prepare(uploads, rows, now=time.time())
    return len(queries.captured_queries), sendable, skip, destination


def test_preparing_an_upload_takes_the_same_queries_for_40_and_400_members() -> None:
    small, _, _, _ = prepared(40)
    AudienceChange.objects.all().delete()
    DestinationMember.objects.all().delete()
    Event.objects.all().delete()
    large, sendable, skip, destination = prepared(400)
    assert large == small
    assert len(sendable) == 400 and skip == {} and unmatchable_count(destination) == 100


def test_prepared_records_carry_the_stored_hashes_and_unmatchable_members_are_counted_not_queued() -> None:
    _, sendable, skip, destination = prepared(8)
    hashes = {record.hashes["em"] for _, record in sendable}
    assert hashes == {hash_user_data({"email": f"shopper{n}@example.com"})["em"] for n in range(8)}
    assert skip == {}
    assert not AudienceChange.objects.filter(person__startswith="v:a-").exists()
    assert unmatchable_count(destination) == 2


def test_an_unmatchable_member_who_checks_out_later_is_queued_at_the_next_sync() -> None:
    _, _, _, destination = prepared(4)
    now = timezone.now()
    Event.objects.create(event_id="late-checkout", name="Purchase", visitor_id="a-0", occurred_at=now, received_at=now,
                         source="server", may_share=True, user_data=hash_user_data({"email": "late@example.com"}))
    adds, _ = queue_changes(destination)
    assert adds == 1 and unmatchable_count(destination) == 0
    assert AudienceChange.objects.filter(person="v:a-0", op="add").exists()


def test_a_list_row_without_a_key_the_platform_takes_is_remembered_as_skipped() -> None:
    aud = built(audience())
    entry = CustomerListEntry.objects.create(audience=aud, line=2, hashes={"fn": "f" * 64})
    AudienceMember.objects.create(audience=aud, person=f"l:{entry.pk}", joined_at=timezone.now())
    destination = Destination.objects.create(audience=aud, platform="meta", remote_id="600")
    assert queue_changes(destination) == (1, 0)  # a list row is checked key by key when prepared
    queue, uploads = ChangeQueue(), REGISTRY["meta"](META).capability("audiences")
    _, rows = claim_batch(queue, "meta", size=100, lease_seconds=60)
    sendable, skip = queue.prepare(uploads, rows, now=time.time())
    assert sendable == [] and list(skip) == ["no identifier Meta matches on"]
    assert list(DestinationMember.objects.values_list("person", "matched", "hashes")) == [(f"l:{entry.pk}", False, {})]


def test_sent_members_are_remembered_with_exactly_the_hashes_sent_list_rows_included() -> None:
    shoppers(range(6))
    aud = built(audience())
    entry = CustomerListEntry.objects.create(audience=aud, line=2, hashes={"em": "e" * 64, "zp": "z" * 64})
    AudienceMember.objects.create(audience=aud, person=f"l:{entry.pk}", joined_at=timezone.now())
    destination = Destination.objects.create(audience=aud, platform="meta", remote_id="600")
    assert queue_changes(destination) == (7, 0)
    queue, uploads = ChangeQueue(), REGISTRY["meta"](META).capability("audiences")
    _, rows = claim_batch(queue, "meta", size=100, lease_seconds=60)
    assert [r.pk for r in rows] == sorted(r.pk for r in rows)  # the claim's rows come back in queue order
    sendable, skip = queue.prepare(uploads, rows, now=time.time())
    assert skip == {} and len(sendable) == 7
    queue.after_sent([row.pk for row, _ in sendable])
    remembered = dict(DestinationMember.objects.values_list("person", "hashes"))
    assert remembered == {row.person: dict(record.hashes) for row, record in sendable}
    assert remembered[f"l:{entry.pk}"] == {"em": "e" * 64, "zp": "z" * 64}
    assert all(value and len(value) == 64 for hashes in remembered.values() for value in hashes.values())
    assert set(DestinationMember.objects.values_list("matched", flat=True)) == {True}


class Row:
    def __init__(self, person: str, visitor_id: str, user_id: int | None = None) -> None:
        self.person, self.visitor_id, self.user_id = person, visitor_id, user_id


def test_identifiers_take_the_newest_hashes_and_fill_keys_from_older_events_by_visitor_and_by_account() -> None:
    now = timezone.now()
    old, new = now - timedelta(days=3), now - timedelta(days=1)
    user = get_user_model().objects.create(username="two-devices")
    Event.objects.bulk_create([  # stored newest first: the event time decides, not the row order
        Event(event_id="e2", name="Purchase", visitor_id="v-x", occurred_at=new, received_at=new, source="server",
              user_data={"em": "c" * 64}),
        Event(event_id="e1", name="Purchase", visitor_id="v-x", occurred_at=old, received_at=old, source="server",
              user_data={"em": "a" * 64, "ph": "b" * 64}),
        Event(event_id="e3", name="Purchase", visitor_id="v-y", user_id=None, occurred_at=new, received_at=new,
              source="server", user_data={"fn": "d" * 64, "raw_email": "never@example.com"}),
        Event(event_id="e4", name="PageView", visitor_id="v-x", occurred_at=now, received_at=now, source="browser"),
        Event(event_id="e5", name="Purchase", visitor_id="phone", user=user, occurred_at=old, received_at=old,
              source="server", user_data={"em": "1" * 64, "zp": "2" * 64}),
        Event(event_id="e6", name="Purchase", visitor_id="laptop", user=user, occurred_at=new, received_at=new,
              source="server", user_data={"em": "3" * 64}),
    ])
    refresh_identity()
    found = identifiers([Row("v:v-x", "v-x"), Row("v:v-y", "v-y"), Row("h:" + "e" * 64, ""),
                         Row(f"u:{user.pk}", "phone", user.pk)])
    assert found["v:v-x"] == {"em": "c" * 64, "ph": "b" * 64}
    assert found["v:v-y"] == {"fn": "d" * 64}  # keys outside HASH_KEYS never leave
    assert found["h:" + "e" * 64] == {"em": "e" * 64}
    assert found[f"u:{user.pk}"] == {"em": "3" * 64, "zp": "2" * 64}  # the account's newest, from the other device


def test_the_stored_hashes_follow_new_events_and_an_older_event_arriving_late_changes_nothing() -> None:
    now = timezone.now()
    first = Event.objects.create(event_id="n1", name="Purchase", visitor_id="v-z", occurred_at=now - timedelta(days=2),
                                 received_at=now - timedelta(days=2), source="server", user_data={"em": "a" * 64})
    assert refresh_identity() == 1
    assert refresh_identity() == 0  # nothing new: nothing written
    Event.objects.create(event_id="n2", name="Purchase", visitor_id="v-z", occurred_at=now - timedelta(days=1),
                         received_at=now - timedelta(hours=1), source="server", user_data={"em": "b" * 64})
    Event.objects.create(event_id="n3", name="Purchase", visitor_id="v-z", occurred_at=now - timedelta(days=5),
                         received_at=now - timedelta(hours=1), source="server", user_data={"em": "c" * 64, "ct": "d" * 64})
    refresh_identity()
    assert identifiers([Row("v:v-z", "v-z")])["v:v-z"] == {"em": "b" * 64, "ct": "d" * 64}
    [row] = IdentityHash.objects.all()
    assert (row.subject, row.em[-64:], row.ct[-64:], row.ph) == ("v:v-z", "b" * 64, "d" * 64, None)
    assert first.pk  # the first event's hash was replaced, not kept beside


def test_a_member_whose_consent_is_withdrawn_is_not_counted_unmatchable() -> None:
    _, _, _, destination = prepared(4)
    ConsentRecord.objects.filter(visitor_id="a-0").update(ads=ConsentChoice.DENIED)
    assert unmatchable_count(destination) == 0  # not shareable at all: neither queued nor counted
