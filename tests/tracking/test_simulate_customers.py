"""Simulated traffic with signed-in customers (``simulate_traffic(customers=...)``): their events carry their
account, checkouts carry the hashed email and phone as the store's server calls keep them, and the default
traffic is unchanged."""
from __future__ import annotations

import pytest

from shop_demo.store.seed import seed_store
from socialshop.exceptions import SocialshopError
from socialshop.privacy.hashing import hash_user_data
from socialshop.tracking.models import Event
from socialshop.tracking.simulate import CHECKOUT_EVENTS, shopper_identity, simulate_traffic

pytestmark = pytest.mark.django_db


@pytest.fixture
def store() -> None:
    seed_store(products=8, customers=0)


def test_without_customers_no_event_carries_an_account_or_user_data(store: None) -> None:
    simulate_traffic(visitors=150, days=7, seed=3)
    assert Event.objects.exists()
    assert not Event.objects.filter(user_id__isnull=False).exists()
    assert not Event.objects.exclude(user_data={}).exists()


def test_customers_sign_in_and_their_checkouts_carry_only_hashes_of_their_identity(store: None) -> None:
    simulate_traffic(visitors=300, days=7, seed=3, customers=0.5)
    signed_in = Event.objects.filter(user_id__isnull=False)
    assert signed_in.exists() and not signed_in.filter(visitor_id="").exists()
    hashed = list(Event.objects.exclude(user_data={}).values_list("name", "user_id", "user_data"))
    assert hashed and {name for name, _, _ in hashed} <= set(CHECKOUT_EVENTS)
    for _name, user_id, user_data in hashed:
        assert set(user_data) >= {"em", "ph", "ph_e164", "country"}
        assert all(len(v) == 64 for v in user_data.values())
        if user_id is not None:  # a customer's checkout: their account's identity
            assert user_data == hash_user_data(shopper_identity(user_id))
    assert any(user_id is None for _, user_id, _ in hashed)  # guests give an email at checkout too
    raw = shopper_identity(1)
    assert not Event.objects.filter(user_data__icontains=raw["email"]).exists()


def test_the_default_traffic_is_the_same_with_customers_left_out(store: None) -> None:
    before = simulate_traffic(visitors=120, days=7, seed=11)
    names = sorted(Event.objects.values_list("name", flat=True))
    Event.objects.all().delete()
    again = simulate_traffic(visitors=120, days=7, seed=11, customers=0)
    assert (again.events, again.purchases) == (before.events, before.purchases)
    assert sorted(Event.objects.values_list("name", flat=True)) == names


@pytest.mark.parametrize("share", [-0.1, 1.5])
def test_a_customer_share_outside_0_to_1_is_refused(store: None, share: float) -> None:
    with pytest.raises(SocialshopError, match="customers"):
        simulate_traffic(visitors=5, days=1, customers=share)


def test_guest_emails_hash_checkouts_without_inventing_accounts(store: None) -> None:
    """The demo's traffic: guests give an email at checkout; no event names an account that does not exist."""
    simulate_traffic(visitors=300, days=7, seed=3, guest_emails=True)
    assert not Event.objects.filter(user_id__isnull=False).exists()
    hashed = list(Event.objects.exclude(user_data={}).values_list("name", "user_data"))
    assert hashed and {name for name, _ in hashed} <= set(CHECKOUT_EVENTS)
    assert all(set(user_data) >= {"em", "ph"} and all(len(v) == 64 for v in user_data.values()) for _, user_data in hashed)


def test_signed_in_users_checkouts_carry_their_hashes_with_guest_emails(store: None) -> None:
    from django.contrib.auth import get_user_model

    users = [get_user_model().objects.create(username=f"u{n}").pk for n in range(3)]
    simulate_traffic(visitors=120, days=7, seed=5, users=users, guest_emails=True)
    hashed = list(Event.objects.exclude(user_data={}).values_list("user_id", "user_data"))
    assert hashed and all(user_id in users and user_data == hash_user_data(shopper_identity(user_id))
                          for user_id, user_data in hashed)
