"""Consent: the banner's choices, cookies before and after consent, GPC, opt-out and the privacy page."""
from __future__ import annotations

import json

import pytest
from django.test import Client

from socialshop.privacy.models import ConsentRecord
from socialshop.tracking.collector import rate_limiter
from socialshop.tracking.models import Event
from socialshop.tracking.store import store_events

pytestmark = pytest.mark.django_db
UA = "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"


@pytest.fixture(autouse=True)
def _fresh_rate_limiter() -> None:
    rate_limiter.reset()


def _consent(client: Client, **body: object) -> object:
    return client.post("/socialshop/privacy/consent/", json.dumps(body), content_type="application/json")


def test_accepting_sets_visitor_cookie_and_records_consent() -> None:
    client = Client(HTTP_USER_AGENT=UA)
    response = _consent(client, analytics=True, ads=True)
    assert response.status_code == 200
    assert response.json() == {"analytics": True, "ads": True, "gpc": False, "opted_out": False, "decided": True}
    visitor = response.cookies["ss_vid"].value
    assert response.cookies["ss_consent"].value == "ag.dg.o0"
    record = ConsentRecord.objects.get(visitor_id=visitor)
    assert (record.analytics, record.ads, record.may_share) == ("granted", "granted", True)


def test_rejecting_sets_only_the_choice_cookie_and_stores_no_record() -> None:
    client = Client(HTTP_USER_AGENT=UA)
    response = _consent(client, analytics=False, ads=False)
    assert response.json()["analytics"] is False and response.json()["ads"] is False
    assert response.cookies["ss_consent"].value == "ad.dd.o0"
    assert response.cookies["ss_vid"].value == ""  # a deletion, not an id
    assert ConsentRecord.objects.count() == 0


def test_analytics_only_identifies_but_never_shares() -> None:
    client = Client(HTTP_USER_AGENT=UA)
    response = _consent(client, analytics=True, ads=False)
    assert response.json()["ads"] is False
    assert ConsentRecord.objects.get(visitor_id=response.cookies["ss_vid"].value).may_share is False


def test_gpc_header_turns_ads_consent_into_no_sharing() -> None:
    client = Client(HTTP_USER_AGENT=UA, HTTP_SEC_GPC="1")
    response = _consent(client, analytics=True, ads=True)
    assert response.json()["ads"] is False and response.json()["gpc"] is True
    assert ConsentRecord.objects.get().may_share is False


def test_withdrawing_consent_unshares_stored_events_and_deletes_visitor_cookie() -> None:
    client = Client(HTTP_USER_AGENT=UA)
    visitor = _consent(client, analytics=True, ads=True).cookies["ss_vid"].value
    from django.utils import timezone

    now = timezone.now()
    store_events([{"event_id": "w1", "name": "PageView", "occurred_at": now, "received_at": now,
                   "visitor_id": visitor, "may_share": True}])
    response = _consent(client, analytics=False, ads=False)
    assert response.cookies["ss_vid"]["max-age"] == 0
    assert Event.objects.get(event_id="w1").may_share is False
    record = ConsentRecord.objects.get(visitor_id=visitor)
    assert (record.analytics, record.ads) == ("denied", "denied")


def test_opt_out_on_privacy_page_records_opt_out_and_redirects() -> None:
    client = Client(HTTP_USER_AGENT=UA)
    visitor = _consent(client, analytics=True, ads=True).cookies["ss_vid"].value
    response = client.post("/socialshop/privacy/", {"choice": "optout"})
    assert response.status_code == 302 and response["Location"] == "/socialshop/privacy/"
    assert ConsentRecord.objects.get(visitor_id=visitor).opted_out is True
    assert response.cookies["ss_consent"].value == "ad.dd.o1"


def test_banner_form_accept_redirects_to_safe_next_only() -> None:
    client = Client(HTTP_USER_AGENT=UA)
    ok = client.post("/socialshop/privacy/", {"choice": "accept", "next": "/p/x/"})
    evil = client.post("/socialshop/privacy/", {"choice": "accept", "next": "https://evil.example/"})
    assert ok["Location"] == "/p/x/"
    assert evil["Location"] == "/socialshop/privacy/"


def test_choose_form_stores_each_purpose_separately() -> None:
    client = Client(HTTP_USER_AGENT=UA)
    response = client.post("/socialshop/privacy/", {"choice": "choose", "analytics": "1"})
    assert response.cookies["ss_consent"].value == "ag.dd.o0"


def test_cross_site_consent_change_is_refused() -> None:
    client = Client(HTTP_USER_AGENT=UA)
    response = client.post("/socialshop/privacy/consent/", json.dumps({"analytics": True, "ads": True}),
                           content_type="application/json", HTTP_ORIGIN="https://evil.example")
    assert response.status_code == 403
    assert "ss_vid" not in response.cookies


def test_consent_api_rejects_malformed_body_with_400() -> None:
    response = Client().post("/socialshop/privacy/consent/", "{nope", content_type="application/json")
    assert response.status_code == 400


def test_privacy_page_states_retention_and_current_choice(settings: object) -> None:
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "EVENT_RETENTION_DAYS": 90}
    client = Client(HTTP_USER_AGENT=UA)
    client.cookies["ss_consent"] = "ag.dd.o0"
    page = client.get("/socialshop/privacy/").content.decode()
    assert "<strong>90 days</strong>" in page
    assert "visit measurement <strong>on</strong>" in page
    assert "sharing with ad platforms <strong>off</strong>" in page
    assert "Why you may see our ads elsewhere" in page


def test_without_consent_required_collector_identifies_without_banner_answer(settings: object) -> None:
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "CONSENT_REQUIRED": False}
    import time

    client = Client(HTTP_USER_AGENT=UA)
    body = json.dumps({"events": [{"event_id": "nc1", "name": "PageView", "time": time.time(), "url": "http://testserver/"}]})
    response = client.post("/socialshop/collect/", body, content_type="text/plain")
    event = Event.objects.get(event_id="nc1")
    assert event.visitor_id == response.cookies["ss_vid"].value
    assert event.may_share is True
