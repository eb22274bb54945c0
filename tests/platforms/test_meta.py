"""Meta Conversions API payloads (socialshop/platforms/meta.py) as the fake server receives them."""
from __future__ import annotations

import hashlib

import pytest

from socialshop.platforms import get_platform
from socialshop.platforms.http import PlatformAPIError
from tests.fakes.platforms import FakePlatforms
from tests.platforms.conftest import server_event


def sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def test_meta_event_carries_hashed_user_data_and_unhashed_browser_ids(fake: FakePlatforms) -> None:
    event = server_event()
    get_platform("meta").events.send_events([event])
    [sent] = fake.received["meta"]
    assert sent["event_name"] == "Purchase" and sent["event_id"] == event.event_id
    assert sent["action_source"] == "website"
    user = sent["user_data"]
    assert user["em"] == [sha("jane@example.com")]
    assert user["ph"] == [sha("16505551212")]  # Meta: digits with country code, no '+'
    assert user["client_ip_address"] == "203.0.113.7" and user["client_user_agent"] == "Mozilla/5.0 (test)"
    assert user["fbp"] == "fb.1.1596403881668.1116446470"
    assert user["fbc"] == f"fb.1.{event.time * 1000}.AbCdEf"  # fbclid kept as is, ms timestamp
    assert sent["custom_data"]["value"] == 20.0 and sent["custom_data"]["currency"] == "USD"
    assert sent["custom_data"]["contents"] == [{"id": "SKU-1", "quantity": 2, "item_price": 10.0}]


def test_meta_hashed_ip_is_not_sent(fake: FakePlatforms) -> None:
    get_platform("meta").events.send_events([server_event(ip="9f86d081884c7d659a2feaa0c55ad015")])
    assert "client_ip_address" not in fake.received["meta"][0]["user_data"]


def test_meta_token_error_code_190_halts_even_on_http_400(fake: FakePlatforms) -> None:
    fake.fail("meta", 400, body={"error": {"message": "Error validating access token", "type": "OAuthException", "code": 190}})
    with pytest.raises(PlatformAPIError) as info:
        get_platform("meta").events.send_events([server_event()])
    assert info.value.auth and "Error validating access token" in info.value.message


def test_meta_without_user_agent_is_skipped() -> None:
    import time

    from django.test import override_settings

    with override_settings(SOCIALSHOP={"PLATFORMS": {"meta": {"pixel_id": "1", "access_token": "t"}}}):
        reason = get_platform("meta").events.skip_reason(server_event(user_agent=""), now=time.time())
    assert reason == "no identifier: Meta needs client_user_agent"


def test_audience_rows_follow_the_schema_with_blanks_and_ignore_other_keys() -> None:
    from socialshop.platforms import REGISTRY
    from socialshop.platforms.audiences import Member
    from socialshop.platforms.meta.audiences import SCHEMA

    uploads = REGISTRY["meta"]({"ad_account_id": "act_1", "access_token": "t", "pixel_id": "1"}).capability("audiences")
    members = [Member("1"), Member("2", {"em": "e" * 64, "country": "c" * 64, "em_google": "g" * 64}),
               Member("3", {ours: ours[0] * 64 for _, ours in SCHEMA})]
    body = uploads.payload(members)["payload"]
    assert body["schema"] == [theirs for theirs, _ in SCHEMA]
    assert body["data"][0] == [""] * len(SCHEMA)  # a member built without hashes
    assert body["data"][1] == ["", "e" * 64, "", "", "", "", "", "", "c" * 64]  # Google's em_google is not Meta's
    assert body["data"][2] == [ours[0] * 64 for _, ours in SCHEMA]
    assert all(type(row) is list for row in body["data"])
