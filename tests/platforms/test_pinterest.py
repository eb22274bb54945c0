"""Pinterest Conversions API payloads (socialshop/platforms/pinterest/events.py) as the fake server receives them,
and the audiences' opt-in and checks (socialshop/platforms/pinterest/audiences.py)."""
from __future__ import annotations

import hashlib
import time
from typing import Any

from socialshop.platforms import configured_platforms, get_platform
from socialshop.platforms.checks import check_platforms
from socialshop.platforms.pinterest import PinterestPlatform
from tests.fakes.platforms import FakePlatforms
from tests.platforms.conftest import server_event


def test_pinterest_event_uses_arrays_string_values_and_epik(fake: FakePlatforms) -> None:
    event = server_event()
    get_platform("pinterest").events.send_events([event])
    [sent] = fake.received["pinterest"]
    assert sent["event_name"] == "checkout" and sent["action_source"] == "web"
    assert sent["user_data"]["em"] == [hashlib.sha256(b"jane@example.com").hexdigest()]
    assert sent["user_data"]["click_id"] == "dj0yJnU9"
    assert sent["custom_data"]["value"] == "20.00"
    assert sent["custom_data"]["contents"][0]["item_price"] == "10.00"


def test_pinterest_needs_email_or_ip_and_user_agent(fake: FakePlatforms) -> None:
    platform = get_platform("pinterest").events
    bare = server_event(user_data={}, ip="")
    assert platform.skip_reason(bare, now=time.time()).startswith("no identifier")
    assert platform.skip_reason(server_event(user_data={}), now=time.time()) is None


def test_pinterest_rejected_rows_are_reported_per_event(fake: FakePlatforms) -> None:
    events = [server_event(), server_event()]
    fake.fail("pinterest", 200, body={
        "num_events_received": 2, "num_events_processed": 1,
        "events": [{"status": "processed"}, {"status": "failed", "error_message": "event_time too old"}],
    })
    result = get_platform("pinterest").events.send_events(events)
    assert result.sent == 1 and result.rejected == {events[1].event_id: "event_time too old"}


def test_pinterest_audiences_are_opt_in_on_their_own_oauth_token() -> None:
    events_only = PinterestPlatform({"ad_account_id": "549755885175", "access_token": "conversion-token"})
    assert events_only.is_active("events")
    assert not any(events_only.is_active(k) for k in ("audiences", "website_audiences", "lookalikes"))
    with_token = PinterestPlatform({"ad_account_id": "549755885175", "access_token": "t", "audiences_access_token": "oauth"})
    assert all(with_token.is_active(k) for k in ("audiences", "website_audiences", "lookalikes"))


def test_pinterest_audiences_need_nothing_from_a_store_that_only_sends_events(fake: FakePlatforms, settings: Any) -> None:
    assert "pinterest" not in configured_platforms("audiences")
    assert not [e for e in check_platforms() if "pinterest" in e.msg]


def test_pinterest_audience_settings_are_checked(settings: Any) -> None:
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "PLATFORMS": {"pinterest": {
        "ad_account_id": "act_5497", "access_token": "t", "audiences_access_token": "oauth"}}}
    messages = {e.id: e.msg for e in check_platforms()}
    assert messages["socialshop.E172"] == "SOCIALSHOP['PLATFORMS']['pinterest']['ad_account_id'] = 'act_5497' is not a Pinterest ad account id"
    assert "['tag_id'] is not set" in messages["socialshop.W173"]


def test_meta_audience_and_version_settings_are_checked(settings: Any) -> None:
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "PLATFORMS": {"meta": {
        "pixel_id": "1", "access_token": "t", "ad_account_id": "acct-12", "api_version": "25"}}}
    messages = {e.id: e.msg for e in check_platforms()}
    assert messages["socialshop.E170"] == "SOCIALSHOP['PLATFORMS']['meta']['ad_account_id'] = 'acct-12' is not a Meta ad account id"
    assert messages["socialshop.E171"] == "SOCIALSHOP['PLATFORMS']['meta']['api_version'] = '25' is not a Graph API version"
