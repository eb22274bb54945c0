"""TikTok Events API payloads (socialshop/platforms/tiktok/events.py) as the fake server receives them, and the
customer-file audience capability's settings and file (tiktok/audiences.py; its sync tests are tests/audiences/)."""
from __future__ import annotations

import hashlib
import time
from typing import Any

import pytest

from socialshop.exceptions import ConfigurationError
from socialshop.platforms import get_platform
from socialshop.platforms.audiences import Member
from socialshop.platforms.checks import check_platforms
from socialshop.platforms.http import PlatformAPIError
from tests.fakes.platforms import CREDENTIALS, FakePlatforms
from tests.platforms.conftest import server_event


def test_tiktok_event_hashes_phone_in_e164_and_maps_purchase(fake: FakePlatforms) -> None:
    event = server_event()
    get_platform("tiktok").events.send_events([event])
    [sent] = fake.received["tiktok"]
    assert sent["event"] == "CompletePayment" and sent["event_id"] == event.event_id
    assert sent["user"]["phone"] == hashlib.sha256(b"+16505551212").hexdigest()  # TikTok: E.164 with '+'
    assert sent["user"]["ttclid"] == "E.C.P.abc" and sent["user"]["ttp"] == "ttp-cookie"
    assert sent["properties"]["contents"][0] == {"content_id": "SKU-1", "content_type": "product", "quantity": 2, "price": 10.0}


def test_tiktok_error_in_a_200_body_is_raised(fake: FakePlatforms) -> None:
    fake.fail("tiktok", 200, body={"code": 40002, "message": "Invalid param: event", "request_id": "x"})
    with pytest.raises(PlatformAPIError) as info:
        get_platform("tiktok").events.send_events([server_event()])
    assert not info.value.retryable and "Invalid param: event" in info.value.message


def test_tiktok_page_view_is_left_to_the_browser(fake: FakePlatforms) -> None:
    assert get_platform("tiktok").events.skip_reason(server_event(name="PageView"), now=time.time()).startswith("not mapped")


def _tiktok(settings: Any, **audience_keys: Any) -> None:
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "PLATFORMS": {"tiktok": {**CREDENTIALS["tiktok"], **audience_keys}}}


def test_tiktok_audiences_stay_off_until_the_advertiser_is_set_and_need_their_own_token(settings: Any) -> None:
    _tiktok(settings)
    assert not get_platform("tiktok").is_active("audiences") and check_platforms() == []
    _tiktok(settings, advertiser_id="700")
    [error] = check_platforms()
    assert error.id == "socialshop.E041" and "['tiktok']['audiences_access_token'] is missing" in error.msg


def test_tiktok_audience_values_are_checked_with_the_key_named(settings: Any) -> None:
    _tiktok(settings, advertiser_id="700", audiences_access_token="t", audience_id_type="EMAIL", audience_retention_days=400)
    found = {e.id: e.msg for e in check_platforms()}
    assert set(found) == {"socialshop.E178", "socialshop.E179"}
    assert "SOCIALSHOP['PLATFORMS']['tiktok']['audience_id_type'] = 'EMAIL'" in found["socialshop.E178"]
    _tiktok(settings, advertiser_id="700", audiences_access_token="t", audience_id_type=["EMAIL_SHA256"])
    assert [e.id for e in check_platforms()] == ["socialshop.E178"]  # a list is reported, not a crash
    _tiktok(settings, advertiser_id="700", audiences_access_token="t", audience_id_type="EMAIL")
    with pytest.raises(ConfigurationError, match=r"\['audience_id_type'\] = 'EMAIL'"):
        get_platform("tiktok").capability("audiences").matchable({"em": "a" * 64})


def test_tiktok_customer_file_holds_one_hash_a_line_of_the_chosen_id_type(settings: Any) -> None:
    _tiktok(settings, advertiser_id="700", audiences_access_token="t", audience_id_type="PHONE_SHA256")
    uploads = get_platform("tiktok").capability("audiences")
    members = [Member("1", {"em": "a" * 64, "ph_e164": "b" * 64}), Member("2", {"ph_e164": "b" * 64}),
               Member("3", {"em": "c" * 64})]
    assert uploads.file_bytes(members) == ("b" * 64 + "\n").encode()  # each hash once; email-only members left out
    assert uploads.matchable({"ph_e164": "b" * 64}) and not uploads.matchable({"em": "c" * 64})
    assert uploads.create_audience("Cart abandoners").startswith("pending:")  # made from the first file of 1,000
