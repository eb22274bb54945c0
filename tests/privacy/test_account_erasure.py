"""Erasing an account (privacy/erasure.py ``erase_accounts``, run by the host's user deletion): the account's
browsers are erased as visitors, its own rows (``u:<id>`` persons, stored hashes, events without a visitor)
go, its uploads are removed at the next sync, other shoppers keep everything, and a failure deletes nothing."""
from __future__ import annotations

import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import Client
from django.utils import timezone

from socialshop.audiences.identity import refresh_identity
from socialshop.audiences.models import AudienceChange, ChangeOp, Destination, DestinationMember, IdentityHash
from socialshop.audiences.sync import queue_changes
from socialshop.privacy.erasure import ErasureError, account_erased, erase_accounts
from socialshop.privacy.hashing import hash_user_data
from socialshop.privacy.models import ConsentRecord
from socialshop.tracking.models import Event
from tests.privacy.test_erasure import SIGNED, holding, two_shoppers  # noqa: F401 - the shared fixture

pytestmark = pytest.mark.django_db


def account_checkout(user_id: int) -> None:
    """A server-side purchase of the account with no visitor id (an order placed by phone, say), folded in."""
    now = timezone.now()
    Event.objects.create(event_id=uuid.uuid4().hex, name="Purchase", occurred_at=now, received_at=now, source="server",
                         user_id=user_id, may_share=True, user_data=hash_user_data({"email": "ann@example.com"}))
    refresh_identity()


def test_deleting_a_user_erases_the_account_its_browsers_and_its_stored_hashes(
        two_shoppers: tuple[Client, str, str, int]) -> None:
    _client, other, kept, user_id = two_shoppers
    signed, person = SIGNED[0], f"u:{user_id}"
    account_checkout(user_id)
    ConsentRecord.objects.filter(visitor_id=signed).update(user_id=user_id)
    assert IdentityHash.objects.filter(subject=person).exists() and holding(person)
    others = {visitor: holding(visitor) for visitor in (other, kept)}

    get_user_model().objects.get(pk=user_id).delete()

    assert holding(signed) == {} and holding(person) == {}
    assert not Event.objects.filter(user_id=user_id).exists()
    assert {visitor: holding(visitor) for visitor in (other, kept)} == others  # the other shoppers keep everything
    # What was uploaded for the account (its signed-in browser is the person u:) is renamed, with the hashes
    # it was sent with, so the next sync removes it from the list.
    renamed = set(DestinationMember.objects.filter(person__startswith="x:").values_list("person", flat=True))
    assert len(renamed) == 1 and DestinationMember.objects.get(person__in=renamed).hashes == {"em": "a" * 64}
    queue_changes(Destination.objects.get())
    removals = set(AudienceChange.objects.filter(op=ChangeOp.REMOVE, status="pending").values_list("person", flat=True))
    assert removals == renamed


def test_erase_accounts_reports_what_went_and_a_second_call_finds_nothing(
        two_shoppers: tuple[Client, str, str, int]) -> None:
    _client, _other, _kept, user_id = two_shoppers
    account_checkout(user_id)
    first = erase_accounts([str(user_id), user_id])
    assert first.visitors == 1
    assert first.rows["events"] == 5 + 1  # the signed-in browser's five, and the account's own checkout
    assert first.rows["stored hashes"] >= 1 and first.rows["uploaded members"] == 1
    assert erase_accounts([user_id]).total == 0


@pytest.mark.parametrize("bad", ["", "12a", -3, 1.5, None, True, "1; DROP"])
def test_a_malformed_account_id_is_refused_and_nothing_is_erased(
        two_shoppers: tuple[Client, str, str, int], bad: Any) -> None:
    _client, _other, _kept, user_id = two_shoppers
    before = holding(f"u:{user_id}")
    with pytest.raises(ErasureError, match="account id"):
        erase_accounts([user_id, bad])
    assert holding(f"u:{user_id}") == before


def test_a_failing_area_keeps_the_user_and_every_row(two_shoppers: tuple[Client, str, str, int]) -> None:
    _client, _other, _kept, user_id = two_shoppers
    before = (holding(SIGNED[0]), holding(f"u:{user_id}"))

    def broken(sender: object, user_ids: list[int], **kwargs: object) -> None:
        raise RuntimeError("disk full")

    account_erased.connect(broken, dispatch_uid="test.broken")
    try:
        # The host's delete in its own transaction (Django's delete takes no savepoint of its own).
        with pytest.raises(RuntimeError), transaction.atomic():
            get_user_model().objects.get(pk=user_id).delete()
    finally:
        account_erased.disconnect(dispatch_uid="test.broken")
    assert get_user_model().objects.filter(pk=user_id).exists()
    assert (holding(SIGNED[0]), holding(f"u:{user_id}")) == before


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.one_of(st.integers(), st.text(max_size=25), st.floats(), st.none(), st.booleans(),
                          st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2)),
                max_size=4))
@example(["²"])  # str.isdigit() is true, int() refuses it
@example(["٣"])  # an Arabic-Indic 3: not account 3
@example([10 ** 19])  # wider than a bigint primary key
def test_any_account_ids_are_erased_or_refused_with_a_message_never_another_error(ids: list[Any]) -> None:
    try:
        result = erase_accounts(ids)
    except ErasureError as exc:
        assert "account id" in str(exc)
        assert any(isinstance(v, bool) or not isinstance(v, (int, str)) or not str(v).isascii() or not str(v).isdigit()
                   or (isinstance(v, int) and v < 0) or len(str(v)) > 19 for v in ids)
    else:
        assert result.total == 0  # no account of these ids holds anything here
