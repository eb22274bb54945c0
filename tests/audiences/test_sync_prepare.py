"""Preparing an upload (audiences/sync.py ``ChangeQueue``): claimed changes become records with the hashes the
store holds, in a constant number of queries whatever the claim's size; unmatchable members are remembered as
skipped. The numbers behind it are bench/audiences.py's."""
from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from socialshop.audiences.models import AudienceChange, Destination, DestinationMember
from socialshop.audiences.sync import ChangeQueue, identifiers, queue_changes
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


def prepared(count: int) -> tuple[int, list[tuple[Any, Any]], dict[str, list[int]]]:
    """Queue and claim the upload of an audience of ``count`` matchable and ``count // 4`` unmatchable visitors;
    returns (queries ``prepare`` took, its records, its skips)."""
    shoppers(range(count))
    anonymous(range(count // 4))
    aud = built(audience())
    destination = Destination.objects.create(audience=aud, platform="meta", remote_id="600")
    queue_changes(destination)
    queue, uploads = ChangeQueue(), REGISTRY["meta"](META).capability("audiences")
    token, rows = claim_batch(queue, "meta", size=10_000, lease_seconds=60)
    with CaptureQueriesContext(connection) as queries:
        sendable, skip = queue.prepare(uploads, rows, now=time.time())
    return len(queries.captured_queries), sendable, skip


def test_preparing_an_upload_takes_the_same_queries_for_40_and_400_members() -> None:
    small, _, _ = prepared(40)
    AudienceChange.objects.all().delete()
    DestinationMember.objects.all().delete()
    Event.objects.all().delete()
    large, sendable, skip = prepared(400)
    assert large == small
    assert len(sendable) == 400 and sum(len(ids) for ids in skip.values()) == 100


def test_prepared_records_carry_the_stored_hashes_and_unmatchable_members_are_remembered_as_skipped() -> None:
    _, sendable, skip = prepared(8)
    hashes = {record.hashes["em"] for _, record in sendable}
    assert hashes == {hash_user_data({"email": f"shopper{n}@example.com"})["em"] for n in range(8)}
    [(reason, ids)] = skip.items()
    assert reason == "no identifier Meta matches on" and len(ids) == 2
    skipped = set(DestinationMember.objects.filter(matched=False).values_list("person", flat=True))
    assert skipped == {"v:a-0", "v:a-1"}
    assert all(h == {} for h in DestinationMember.objects.filter(matched=False).values_list("hashes", flat=True))


def test_identifiers_take_the_newest_hashes_and_fill_keys_from_older_events_by_visitor_and_by_account() -> None:
    now = timezone.now()
    old, new = now - timedelta(days=3), now - timedelta(days=1)
    Event.objects.bulk_create([
        Event(event_id="e1", name="Purchase", visitor_id="v-x", occurred_at=old, received_at=old, source="server",
              user_data={"em": "a" * 64, "ph": "b" * 64}),
        Event(event_id="e2", name="Purchase", visitor_id="v-x", occurred_at=new, received_at=new, source="server",
              user_data={"em": "c" * 64}),
        Event(event_id="e3", name="Purchase", visitor_id="v-y", user_id=None, occurred_at=new, received_at=new,
              source="server", user_data={"fn": "d" * 64, "raw_email": "never@example.com"}),
        Event(event_id="e4", name="PageView", visitor_id="v-x", occurred_at=now, received_at=now, source="browser"),
    ])

    class Row:
        def __init__(self, person: str, visitor_id: str, user_id: int | None = None) -> None:
            self.person, self.visitor_id, self.user_id = person, visitor_id, user_id

    found = identifiers([Row("v:v-x", "v-x"), Row("v:v-y", "v-y"), Row("h:" + "e" * 64, "")])
    assert found["v:v-x"] == {"em": "c" * 64, "ph": "b" * 64}
    assert found["v:v-y"] == {"fn": "d" * 64}  # keys outside HASH_KEYS never leave
    assert found["h:" + "e" * 64] == {"em": "e" * 64}
