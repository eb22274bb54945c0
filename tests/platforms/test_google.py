"""GA4 Measurement Protocol payloads (socialshop/platforms/google/events.py) as the fake server receives them, and
the Customer Match capability's settings and payload (google/audiences.py; its sync tests are tests/audiences/)."""
from __future__ import annotations

import time
from typing import Any

from socialshop.platforms import get_platform
from socialshop.platforms.audiences import Member
from socialshop.platforms.checks import check_platforms
from tests.fakes.platforms import CREDENTIALS, FakePlatforms
from tests.platforms.conftest import server_event


def test_google_groups_requests_by_client_id_within_25_events(fake: FakePlatforms) -> None:
    platform = get_platform("google").events
    events = [server_event(browser_ids={"ga": "1.1"}) for _ in range(30)] + [server_event(browser_ids={"ga": "2.2"})]
    batches = platform.batches(events)
    assert [len(b) for b in batches] == [25, 5, 1]
    for batch in batches:
        platform.send_events(batch)
    assert [ev["client_id"] for ev in fake.received["google"]].count("1.1") == 30
    purchase = fake.received["google"][0]
    assert purchase["name"] == "purchase" and purchase["params"]["transaction_id"]


def test_google_skips_browser_events_that_gtag_already_sent(fake: FakePlatforms) -> None:
    reason = get_platform("google").events.skip_reason(server_event(source="browser"), now=time.time())
    assert reason.startswith("reported in the browser by gtag")


def test_google_falls_back_to_the_visitor_id_as_client_id(fake: FakePlatforms) -> None:
    get_platform("google").events.send_events([server_event(browser_ids={}, visitor_id="v-42")])
    assert fake.received["google"][0]["client_id"] == "v-42"


def _google(settings: Any, **audience_keys: Any) -> None:
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "PLATFORMS": {"google": {**CREDENTIALS["google"], **audience_keys}}}


def test_google_audiences_stay_off_until_one_of_their_own_keys_is_set(settings: Any) -> None:
    _google(settings)
    assert not get_platform("google").is_active("audiences") and check_platforms() == []
    _google(settings, operating_account_id="123-456-7890")
    assert get_platform("google").is_active("audiences")
    messages = [e.msg for e in check_platforms() if e.id == "socialshop.E041"]
    assert len(messages) == 3
    for key in ("oauth_client_id", "oauth_client_secret", "oauth_refresh_token"):
        assert any(f"['google']['{key}'] is missing" in m and "Google audience uploads need it" in m for m in messages)


def test_google_audience_values_are_checked_with_the_key_named(settings: Any) -> None:
    _google(settings, operating_account_id="12345", oauth_client_id="c", oauth_client_secret="s", oauth_refresh_token="r",
            login_account_id="111-222-3333", membership_days=900, oauth_token_url="oauth2.googleapis.com/token")
    found = {e.id: e.msg for e in check_platforms()}
    assert set(found) == {"socialshop.E175", "socialshop.E176", "socialshop.E177"}
    assert "SOCIALSHOP['PLATFORMS']['google']['operating_account_id'] = '12345'" in found["socialshop.E175"]
    assert "['membership_days'] = 900" in found["socialshop.E176"]


def test_google_audiences_call_the_data_manager_host_with_the_gmail_hash(settings: Any) -> None:
    _google(settings, operating_account_id="1234567890", oauth_client_id="c", oauth_client_secret="s", oauth_refresh_token="r")
    entry = settings.SOCIALSHOP["PLATFORMS"]["google"]
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "PLATFORMS": {"google": {k: v for k, v in entry.items() if k != "api_base"}}}
    uploads = get_platform("google").capability("audiences")
    assert uploads.api_base == "https://datamanager.googleapis.com"
    member = Member("1", {"em": "a" * 64, "em_google": "b" * 64, "ph_e164": "c" * 64, "ph": "d" * 64})
    assert uploads.member(member, consent=True) == {
        "userData": {"userIdentifiers": [{"emailAddress": "b" * 64}, {"phoneNumber": "c" * 64}]},
        "consent": {"adUserData": "CONSENT_GRANTED", "adPersonalization": "CONSENT_GRANTED"},
    }
    assert "consent" not in uploads.member(member, consent=False)  # :remove takes no consent
    assert uploads.destination("42") == {"operatingAccount": {"accountType": "GOOGLE_ADS", "accountId": "1234567890"},
                                         "productDestinationId": "42"}
