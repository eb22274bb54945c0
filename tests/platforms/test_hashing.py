"""Normalisation and hashing of customer data (socialshop/platforms/hashing.py)."""
from __future__ import annotations

import hashlib

import pytest

from socialshop.platforms.hashing import (
    hash_user_data,
    normalize_date_of_birth,
    normalize_email,
    normalize_name,
    normalize_phone,
    normalize_postcode,
)


def sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def test_email_is_trimmed_and_lowercased_with_plus_addressing_kept() -> None:
    assert normalize_email("  John.Smith+Shop@GMail.COM \n") == "john.smith+shop@gmail.com"


def test_email_without_at_sign_is_dropped() -> None:
    assert normalize_email("not an email") is None
    assert "em" not in hash_user_data({"email": "not an email"})


@pytest.mark.parametrize(("raw", "country", "digits"), [
    ("(650) 555-1212", "US", "16505551212"),
    ("+1 650.555.1212", None, "16505551212"),
    ("001-650-555-1212", None, "16505551212"),
    ("+44 (0)20 7946-0000", None, "442079460000"),
    ("0151 2345678", "de", "491512345678"),
    ("1 (650) 555 1212", "us", "16505551212"),
])
def test_phone_punctuation_is_stripped_and_country_code_kept(raw: str, country: str | None, digits: str) -> None:
    assert normalize_phone(raw, country=country) == digits


def test_phone_hashes_both_meta_and_e164_forms() -> None:
    hashed = hash_user_data({"phone": "+1 (650) 555-1212"})
    assert hashed["ph"] == sha("16505551212")
    assert hashed["ph_e164"] == sha("+16505551212")


def test_names_keep_accents_and_lose_case_spaces_and_punctuation() -> None:
    assert normalize_name("  Valéry ") == "valéry"
    # A decomposed "é" (e + combining accent) hashes like the precomposed one.
    assert normalize_name("Vale\u0301ry") == "valéry"
    assert normalize_name("O'Brien-Smith") == "obriensmith"


def test_postcodes_and_dates_follow_meta_formats() -> None:
    assert normalize_postcode("94105-1234", country="US") == "94105"
    assert normalize_postcode("M1 1AE", country="GB") == "m11ae"
    assert normalize_date_of_birth("2/16/1997") == "19970216"
    assert normalize_date_of_birth("1997-02-16") == "19970216"
    assert normalize_date_of_birth("31/02/1997") is None


def test_messy_pii_hashes_like_clean_pii() -> None:
    messy = hash_user_data({
        "email": " JOHN+shop@Example.COM ", "phone": "+1 (650) 555-1212", "first_name": " Valéry ",
        "last_name": "O'Neil", "city": "New York", "state": "New York", "postcode": "10001-0001",
        "country": "USA", "external_id": " cust-42 ", "gender": "Female", "date_of_birth": "2/16/1997",
    })
    assert messy == {
        "em": sha("john+shop@example.com"), "ph": sha("16505551212"), "ph_e164": sha("+16505551212"),
        "fn": sha("valéry"), "ln": sha("oneil"), "ct": sha("newyork"), "st": sha("ny"), "zp": sha("10001"),
        "country": sha("us"), "external_id": sha("cust-42"), "ge": sha("f"), "db": sha("19970216"),
    }


def test_already_hashed_values_are_not_hashed_twice() -> None:
    digest = sha("john@example.com")
    assert hash_user_data({"email": digest.upper()}) == {"em": digest}


def test_empty_and_none_values_are_left_out() -> None:
    assert hash_user_data({"email": None, "phone": "", "first_name": "  ", "gender": "x"}) == {}
