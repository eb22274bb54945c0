"""The stored hashes per visitor and account (audiences/identity.py ``IdentityHash``): erasure and retention
keep them in step with the event store, and a member's identifiers never outlive the events they came from."""
from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st
from django.contrib.auth import get_user_model
from django.utils import timezone

from socialshop.audiences.identity import identifiers, refresh_identity
from socialshop.audiences.models import IdentityHash
from socialshop.privacy.erasure import erase_visitors
from socialshop.tracking.models import Event, PurgeRun
from socialshop.tracking.retention import events_purged

pytestmark = pytest.mark.django_db


class Row:
    def __init__(self, person: str, visitor_id: str, user_id: int | None = None) -> None:
        self.person, self.visitor_id, self.user_id = person, visitor_id, user_id


def checkout(event_id: str, visitor: str, user: object | None, days_ago: float, **hashes: str) -> Event:
    at = timezone.now() - timedelta(days=days_ago)
    return Event.objects.create(event_id=event_id, name="Purchase", visitor_id=visitor, user=user, occurred_at=at,
                                received_at=at, source="server", may_share=True, user_data=hashes)


def test_erasing_a_device_removes_its_hashes_and_the_account_keeps_those_of_its_other_devices() -> None:
    user = get_user_model().objects.create(username="two-devices")
    checkout("p1", "phone", user, 1, em="a" * 64, ph="b" * 64)  # newest: the account's em and ph come from the phone
    checkout("l1", "laptop", user, 3, em="c" * 64, zp="d" * 64)
    refresh_identity()
    account = Row(f"u:{user.pk}", "", user.pk)
    assert identifiers([account])[account.person] == {"em": "a" * 64, "ph": "b" * 64, "zp": "d" * 64}

    result = erase_visitors(["phone"])

    assert result.rows["stored hashes"] == 2  # v:phone, and the account (folded in again from the laptop)
    assert not IdentityHash.objects.filter(subject="v:phone").exists()
    assert identifiers([account])[account.person] == {"em": "c" * 64, "zp": "d" * 64}  # the laptop's, folded in again
    assert identifiers([Row("v:phone", "phone")])["v:phone"] == {}
    refresh_identity()
    assert not IdentityHash.objects.filter(subject="v:phone").exists()  # and they never come back
    assert identifiers([account])[account.person] == {"em": "c" * 64, "zp": "d" * 64}


def test_a_retention_run_drops_the_hashes_of_purged_events() -> None:
    checkout("old", "v-old", None, 400, em="a" * 64)
    checkout("new", "v-new", None, 2, em="b" * 64)
    checkout("mixed-old", "v-mixed", None, 400, ph="c" * 64)
    checkout("mixed-new", "v-mixed", None, 2, em="d" * 64)
    refresh_identity()
    cutoff = timezone.now() - timedelta(days=395)
    Event.objects.filter(occurred_at__lt=cutoff).delete()
    events_purged.send(sender=PurgeRun, cutoff=cutoff)
    assert sorted(IdentityHash.objects.values_list("subject", "em", "ph")) == [
        ("v:v-mixed", IdentityHash.objects.get(subject="v:v-mixed").em, None),
        ("v:v-new", IdentityHash.objects.get(subject="v:v-new").em, None)]
    found = identifiers([Row("v:v-mixed", "v-mixed"), Row("v:v-old", "v-old")])
    assert found == {"v:v-mixed": {"em": "d" * 64}, "v:v-old": {}}  # the purged phone hash is gone, the newer email kept


def test_only_hash_keys_with_a_value_are_stored_never_other_user_data() -> None:
    checkout("k1", "v-k", None, 1, em="a" * 64, ph="", raw_email="never@example.com", fbp="fb.1.2.3")
    assert refresh_identity() == 1
    [row] = IdentityHash.objects.all()
    assert row.subject == "v:v-k" and row.em.endswith("a" * 64)
    assert [k for k in ("em_google", "ph", "ph_e164", "fn", "ln", "ct", "st", "zp", "country", "external_id")
            if getattr(row, k) is not None] == []
    assert identifiers([Row("v:v-k", "v-k")]) == {"v:v-k": {"em": "a" * 64}}


_TEXT = st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",))  # what a JSON column can hold on both databases
_VALUES = st.one_of(st.text(_TEXT, max_size=300), st.integers(-2**53, 2**53), st.floats(allow_nan=False, allow_infinity=False),
                    st.none(), st.booleans(), st.lists(st.text(_TEXT, max_size=5), max_size=3),
                    st.dictionaries(st.text(_TEXT, max_size=5), st.text(_TEXT, max_size=5), max_size=2),
                    st.text(alphabet="0123456789abcdefABCDEF", min_size=64, max_size=64))
_KEYS = st.sampled_from(["em", "ph", "ph_e164", "fn", "zp", "external_id", "fbp", "raw_email", "", "EM"])


@hsettings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(documents=st.lists(st.dictionaries(_KEYS, _VALUES, min_size=1, max_size=6), min_size=1, max_size=4))
def test_any_user_data_a_row_holds_folds_without_error_and_only_hex_digests_are_kept(documents: list[dict]) -> None:
    """Event rows written past the store's hashing (a restore, another writer): whatever their user_data,
    the fold never fails and stores, and so uploads, only lowercase SHA-256 hex digests."""
    IdentityHash.objects.all().delete()
    Event.objects.filter(event_id__startswith="fuzz-").delete()
    at = timezone.now() - timedelta(hours=2)
    Event.objects.bulk_create([
        Event(event_id=f"fuzz-{n}", name="Purchase", visitor_id="v-fuzz", occurred_at=at, received_at=at,
              source="server", user_data=doc)
        for n, doc in enumerate(documents)])
    refresh_identity()
    found = identifiers([Row("v:v-fuzz", "v-fuzz")])["v:v-fuzz"]
    assert all(len(v) == 64 and set(v) <= set("0123456789abcdef") for v in found.values())
    expected = {k for doc in documents for k, v in doc.items()
                if k in {"em", "ph", "ph_e164", "fn", "zp", "external_id"} and isinstance(v, str)
                and len(v) == 64 and set(v) <= set("0123456789abcdef")}
    assert set(found) == expected
