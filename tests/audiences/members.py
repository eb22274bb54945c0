"""Helpers for the upload tests (test_sync_meta.py, test_sync_pinterest.py): shoppers with consent and
hashed emails in the event store, audiences built from them, and bulk members for batch-size tests."""
from __future__ import annotations

import hashlib
import itertools
from datetime import timedelta
from typing import Any

from django.utils import timezone

from socialshop.audiences.builder import build_audience
from socialshop.audiences.models import Audience, AudienceChange, AudienceMember, BuildStatus, RuleKind
from socialshop.privacy.hashing import hash_user_data
from socialshop.privacy.models import ConsentChoice, ConsentRecord
from socialshop.tracking.models import Event

_seq = itertools.count(1)


def email_hash(n: int) -> str:
    """The SHA-256 of shopper ``n``'s normalised email, as every platform receives it."""
    return hashlib.sha256(f"shopper{n}@example.com".encode()).hexdigest()


def shoppers(numbers: range, *, name: str = "PageView", ago: timedelta = timedelta(hours=3), **fields: Any) -> list[str]:
    """One consenting visitor per number, each with an event carrying their hashed email; returns visitor ids."""
    now = timezone.now()
    visitors = [f"v-{n}" for n in numbers]
    ConsentRecord.objects.bulk_create([ConsentRecord(visitor_id=v, ads=ConsentChoice.GRANTED, analytics=ConsentChoice.GRANTED)
                                       for v in visitors], ignore_conflicts=True)
    Event.objects.bulk_create([
        Event(event_id=f"ev-{next(_seq)}", name=name, visitor_id=f"v-{n}", occurred_at=now - ago, received_at=now - ago,
              source="browser", may_share=True, user_data=hash_user_data({"email": f"shopper{n}@example.com"}), **fields)
        for n in numbers])
    return visitors


def audience(kind: str = RuleKind.VISITORS, **fields: Any) -> Audience:
    n = next(_seq)
    return Audience.objects.create(name=f"Store visitors {n}", slug=f"aud-{n}", kind=kind, **fields)


def built(aud: Audience) -> Audience:
    build = build_audience(aud)
    assert build.status == BuildStatus.SUCCEEDED, build.error
    return aud


def bulk_members(aud: Audience, numbers: range) -> None:
    """Current members ``h:<email hash>`` with granted ads consent, written in bulk (no events needed)."""
    now = timezone.now()
    ConsentRecord.objects.bulk_create([ConsentRecord(visitor_id=f"v-{n}", ads=ConsentChoice.GRANTED) for n in numbers],
                                      ignore_conflicts=True)
    AudienceMember.objects.bulk_create([AudienceMember(audience=aud, person=f"h:{email_hash(n)}", visitor_id=f"v-{n}",
                                                       joined_at=now) for n in numbers])


def rows(**filters: Any) -> dict[str, int]:
    """Change rows per status."""
    out: dict[str, int] = {}
    for status in AudienceChange.objects.filter(**filters).values_list("status", flat=True):
        out[status] = out.get(status, 0) + 1
    return out
