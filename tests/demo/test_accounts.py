"""Customer accounts: sign up, log in with email, log out, order history."""
from __future__ import annotations

from urllib.parse import quote

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from shop_demo.store.seed import CUSTOMER_PASSWORD

pytestmark = pytest.mark.django_db

SIGNUP = {"email": "Grace@Example.com", "first_name": "Grace", "last_name": "Hopper",
          "password1": "cobol-1959-ok", "password2": "cobol-1959-ok"}


def test_signup_creates_a_customer_and_logs_them_in(client: Client) -> None:
    response = client.post("/account/signup/", SIGNUP, follow=True)
    user = get_user_model().objects.get(email="grace@example.com")
    assert user.username == "grace@example.com" and user.first_name == "Grace" and not user.is_staff
    assert response.context["user"] == user
    assert "Welcome, Grace!" in response.content.decode()


def test_signup_rejects_an_email_that_already_has_an_account(client: Client) -> None:
    client.post("/account/signup/", SIGNUP)
    response = Client().post("/account/signup/", {**SIGNUP, "email": "grace@example.com"})
    assert "already exists" in response.content.decode()
    assert get_user_model().objects.count() == 1


def test_signup_rejects_mismatched_passwords(client: Client) -> None:
    response = client.post("/account/signup/", {**SIGNUP, "password2": "something-else"})
    assert response.status_code == 200
    assert not get_user_model().objects.exists()


def test_seeded_customer_logs_in_with_email_and_out_again(client: Client, small_store: dict) -> None:
    customer = get_user_model().objects.filter(is_staff=False).first()
    response = client.post("/account/login/", {"username": customer.email, "password": CUSTOMER_PASSWORD, "next": "/account/"})
    assert response.status_code == 302 and response["Location"] == "/account/"
    assert customer.orders.first().number in client.get("/account/").content.decode()
    client.post("/account/logout/")
    assert client.get("/account/").status_code == 302


def test_login_with_a_wrong_password_is_refused(client: Client, small_store: dict) -> None:
    customer = get_user_model().objects.filter(is_staff=False).first()
    response = client.post("/account/login/", {"username": customer.email, "password": "nope"})
    assert response.status_code == 200
    assert "correct" in response.content.decode()


@pytest.mark.parametrize("target", [
    "//evil.example/", "https://evil.example", "/\\evil.example", "javascript:alert(1)", "\\\\evil.example",
    "http://testserver.evil.example/",
])
def test_signup_never_redirects_off_site(client: Client, target: str) -> None:
    response = client.post(f"/account/signup/?next={quote(target, safe='')}", SIGNUP)
    assert response.status_code == 302
    assert response["Location"] == "/account/"


def test_signup_follows_next_to_a_page_of_the_store(client: Client) -> None:
    response = client.post("/account/signup/?next=/cart/", SIGNUP)
    assert response.status_code == 302 and response["Location"] == "/cart/"
