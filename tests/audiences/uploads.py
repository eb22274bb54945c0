"""Data for the audience-upload tests (test_sync_google.py, test_sync_tiktok.py): customer-list audiences
built through the real builder, visitors with consent records and hashed events, server events to forward."""
from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from socialshop.audiences.builder import build_audience
from socialshop.audiences.models import Audience, AudienceChange, AudienceMember, BuildStatus, CustomerListEntry, RuleKind
from socialshop.privacy.models import ConsentChoice, ConsentRecord
from socialshop.tracking.models import Event

_seq = itertools.count(1)


def sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def email_hash(n: int) -> str:
    return sha(f"person{n}@example.com")


def build(audience: Audience) -> None:
    result = build_audience(audience)
    assert result.status == BuildStatus.SUCCEEDED, result.error


def list_audience(count: int, *, start: int = 0, hashes: Callable[[int], dict[str, str]] | None = None) -> Audience:
    """A customer-list audience of ``count`` people (emails person<start..>@example.com), built."""
    n = next(_seq)
    audience = Audience.objects.create(name=f"Customers {n}", slug=f"customers-{n}", kind=RuleKind.CUSTOMER_LIST)
    add_entries(audience, range(start, start + count), hashes=hashes)
    build(audience)
    return audience


def add_entries(audience: Audience, numbers: range | list[int], *, hashes: Callable[[int], dict[str, str]] | None = None) -> None:
    CustomerListEntry.objects.bulk_create([
        CustomerListEntry(audience=audience, line=i, hashes=(hashes or (lambda k: {"em": email_hash(k)}))(i)) for i in numbers
    ])


def drop_entries(audience: Audience, numbers: range | list[int]) -> None:
    CustomerListEntry.objects.filter(audience=audience, line__in=list(numbers)).delete()


def consented_visitor(audience: Audience, visitor: str, email: str, *, ads: str = ConsentChoice.GRANTED) -> AudienceMember:
    """A visitor in ``audience`` whose hashed email the store keeps with a server event, and their consent record."""
    now = timezone.now()
    ConsentRecord.objects.create(visitor_id=visitor, ads=ads, analytics=ads)
    Event.objects.create(event_id=f"ev-{visitor}-{next(_seq)}", name="Purchase", visitor_id=visitor, occurred_at=now,
                         received_at=now, source="server", may_share=True, user_data={"em": sha(email)})
    return AudienceMember.objects.create(audience=audience, person=f"v:{visitor}", visitor_id=visitor, joined_at=now,
                                         reason="test")


def server_purchase() -> Event:
    """A shareable server-side Purchase (forwarded by every platform's events capability)."""
    n = next(_seq)
    now = timezone.now()
    return Event.objects.create(
        event_id=f"srv-{n}", name="Purchase", occurred_at=now - timedelta(minutes=1), received_at=now, source="server",
        visitor_id=f"buyer-{n}", may_share=True, url="https://shop.example.com/done", content_ids=["SKU-1"],
        contents=[{"id": "SKU-1", "quantity": 1, "item_price": "10.00"}], value=Decimal("10.00"), currency="USD",
        order_id=f"order-{n}", user_agent="Mozilla/5.0 (test)", ip="203.0.113.9", user_data={"em": email_hash(n)},
        browser_ids={"ga": f"{n}.1"},
    )


def change_states(**filters: Any) -> dict[str, int]:
    """status -> how many AudienceChange rows (matching ``filters``)."""
    out: dict[str, int] = {}
    for status in AudienceChange.objects.filter(**filters).values_list("status", flat=True):
        out[status] = out.get(status, 0) + 1
    return out
