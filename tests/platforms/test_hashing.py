"""Normalisation and hashing of customer data (socialshop/platforms/hashing.py)."""
from __future__ import annotations

import hashlib

import pytest

from socialshop.platforms import REGISTRY, get_platform
from socialshop.platforms.hashing import (
    EMAIL_RULES,
    email_hash_for,
    hash_user_data,
    normalize_email_for,
    normalize_external_id,
    normalize_google_email,
    normalize_date_of_birth,
    normalize_email,
    normalize_name,
    normalize_phone,
    normalize_postcode,
)
from tests.fakes.platforms import FakePlatforms
from tests.platforms.conftest import server_event


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


@pytest.mark.parametrize(("raw", "google"), [
    (" John.Smith+Shop@GMail.com ", "johnsmith@gmail.com"),
    ("j.o.h.n@googlemail.com", "john@googlemail.com"),
    ("john.smith+shop@example.com", "john.smith+shop@example.com"),  # other domains: as typed
    ("john.smith@gmail.co.uk", "john.smith@gmail.co.uk"),
    ("+shop@gmail.com", None),
])
def test_google_email_rule_removes_gmail_dots_and_plus_suffix_only(raw: str, google: str | None) -> None:
    assert normalize_google_email(raw) == google


def test_every_platform_has_an_explicit_email_rule_and_only_google_rewrites_gmail() -> None:
    assert set(EMAIL_RULES) == set(REGISTRY)
    raw = "John.Smith+shop@gmail.com"
    assert {slug: normalize_email_for(slug, raw) for slug in REGISTRY} == {
        "meta": "john.smith+shop@gmail.com", "pinterest": "john.smith+shop@gmail.com",
        "tiktok": "john.smith+shop@gmail.com", "google": "johnsmith@gmail.com",
    }


def test_gmail_address_stores_a_second_hash_for_google_only_when_it_differs() -> None:
    gmail = hash_user_data({"email": "John.Smith+shop@gmail.com"})
    assert gmail["em"] == sha("john.smith+shop@gmail.com")
    assert gmail["em_google"] == sha("johnsmith@gmail.com")
    assert email_hash_for("google", gmail) == sha("johnsmith@gmail.com")
    assert email_hash_for("meta", gmail) == email_hash_for("tiktok", gmail) == sha("john.smith+shop@gmail.com")
    plain = hash_user_data({"email": "jane@example.com"})
    assert "em_google" not in plain and email_hash_for("google", plain) == plain["em"]


def test_google_and_tiktok_payloads_carry_their_own_email_hash(fake: FakePlatforms) -> None:
    event = server_event(user_data=hash_user_data({"email": "John.Smith+shop@gmail.com"}))
    google = get_platform("google").events
    assert google.request_body([event])["user_data"]["sha256_email_address"] == [sha("johnsmith@gmail.com")]
    google.send_events([event])  # the fake accepts it
    tiktok = get_platform("tiktok").events.event_payload(event)
    assert tiktok["user"]["email"] == sha("john.smith+shop@gmail.com")
    meta = get_platform("meta").events.event_payload(event)
    assert meta["user_data"]["em"] == [sha("john.smith+shop@gmail.com")]


@pytest.mark.parametrize("raw", [
    "+1 650 555 1212 ext. 123", "+1 650 555 1212 x123", "+1 650 555 1212 #123", "+1 650 555 1212 extension 123",
    "(650) 555-1212 Ext 9", "+1-650-555-1212;ext=123",
])
def test_phone_extension_is_dropped_before_hashing(raw: str) -> None:
    assert normalize_phone(raw, country="US") == "16505551212"
    assert hash_user_data({"phone": raw, "country": "US"})["ph"] == sha("16505551212")


@pytest.mark.parametrize(("raw", "db"), [
    ("1997/02/16", "19970216"), ("02-16-1997", "19970216"), ("2/16/1997", "19970216"), ("1997.02.16", "19970216"),
    ("16/02/1997", "19970216"),  # first part over 12: day first
    ("03/04/1997", "19970304"),  # both 12 or under: month first (Meta's M/D/YYYY example)
    ("16.02.1997", "19970216"), ("04.03.1997", "19970304"),  # dots: day first
    ("16 Feb 1997", "19970216"), ("February 16, 1997", "19970216"), ("1997-02-16T00:00:00", "19970216"),
    ("02/16/97", None), ("1997/02/30", None), ("1850-01-01", None), ("2999-01-01", None),
])
def test_birth_dates_in_common_forms_become_yyyymmdd(raw: str, db: str | None) -> None:
    assert normalize_date_of_birth(raw) == db


def test_external_id_is_trimmed_and_lowercased_like_metas_sdk() -> None:
    assert normalize_external_id("  Cust-42 ") == "cust-42"
    assert hash_user_data({"external_id": "CUST-42"})["external_id"] == sha("cust-42")
