"""Server-side events: cart changes and paid orders, consent, hashing, one Purchase per order."""
from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.contrib.sessions.middleware import SessionMiddleware
from django.test import Client, RequestFactory

from socialshop.privacy.models import ConsentRecord
from socialshop.tracking.models import Event
from socialshop.tracking.server import pop_pending_events, report_cart_change, report_order_paid
from tests.tracking.conftest import make_event, post_events

pytestmark = pytest.mark.django_db
RAW = {"email": " Ann@Example.com ", "phone": "+1 650 555 1212", "first_name": "Ann", "last_name": "Lee",
       "city": "Austin", "postcode": "78701", "country": "US", "external_id": "42"}


def _request(consent: str = "", visitor: str = "") -> object:
    request = RequestFactory().post("/cart/add/", HTTP_USER_AGENT="Mozilla/5.0 Firefox/125.0", HTTP_REFERER="http://testserver/p/x/")
    SessionMiddleware(lambda r: None).process_request(request)
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    if consent:
        request.COOKIES["ss_consent"] = consent
    if visitor:
        request.COOKIES["ss_vid"] = visitor
    return request


def test_cart_change_is_stored_and_queued_for_the_browser_with_the_same_event_id() -> None:
    request = _request("ag.dg.o0", "v" * 22)
    report = report_cart_change(request, catalog_id="SKU-1", quantity=2, item_price=Decimal("9.99"), currency="USD")
    event = Event.objects.get(event_id=report.event_id)
    assert (event.name, event.source, event.visitor_id, event.may_share) == ("AddToCart", "server", "v" * 22, True)
    assert event.contents == [{"id": "SKU-1", "quantity": 2, "item_price": 9.99}] and event.value == Decimal("19.98")
    assert event.url == "http://testserver/p/x/"
    pending = pop_pending_events(request)
    assert pending[0]["name"] == "AddToCart" and pending[0]["data"]["event_id"] == report.event_id
    assert pop_pending_events(request) == []


def test_cart_change_browser_echo_is_a_duplicate(consented: Client) -> None:
    report = report_cart_change(_request("ag.dg.o0", "v" * 22), catalog_id="SKU-1", quantity=1, item_price=5)
    echo = make_event("AddToCart", event_id=report.event_id, content_ids=["SKU-1"], value=5, currency="USD")
    assert post_events(consented, [echo]).json() == {"accepted": 0, "duplicates": 1, "rejected": []}


def test_removing_from_cart_records_nothing() -> None:
    assert report_cart_change(_request(), catalog_id="SKU-1", quantity=0, item_price=5) is None
    assert Event.objects.count() == 0


def test_order_paid_with_consent_stores_hashed_user_data_never_raw_pii() -> None:
    report = report_order_paid(order_id="D1", value=Decimal("25.00"), currency="USD", request=_request("ag.dg.o0", "v" * 22),
                               items=[{"id": "SKU-1", "quantity": 1, "item_price": 25}], user_data=RAW)
    event = Event.objects.get(event_id=report.event_id)
    assert event.name == "Purchase" and event.order_id == "D1" and event.may_share is True
    dumped = json.dumps(event.user_data)
    assert event.user_data["em"] and len(event.user_data["em"]) == 64
    for raw in ("Ann", "example.com", "555", "Austin", "78701"):
        assert raw.lower() not in dumped.lower()


def test_order_paid_without_consent_is_anonymous_and_never_shared() -> None:
    report = report_order_paid(order_id="D2", value=10, currency="USD", request=_request(), items=[{"id": "A", "quantity": 1}],
                               user_data=RAW)
    event = Event.objects.get(event_id=report.event_id)
    assert (event.visitor_id, event.user_data, event.ip, event.user_agent, event.may_share) == ("", {}, "", "", False)


def test_purchase_is_recorded_once_when_server_and_browser_both_report(consented: Client) -> None:
    server = report_order_paid(order_id="D3", value=10, currency="USD", request=_request("ag.dg.o0", "v" * 22),
                               items=[{"id": "A", "quantity": 1}])
    again = report_order_paid(order_id="D3", value=10, currency="USD", items=[{"id": "A", "quantity": 1}])
    browser = make_event("Purchase", event_id="other-id", order_id="D3", value=10, currency="USD")
    assert server.stored is True and again.stored is False
    assert post_events(consented, [browser]).json()["duplicates"] == 1
    assert Event.objects.filter(name="Purchase", order_id="D3").count() == 1


def test_server_purchase_after_browser_purchase_adds_hashed_user_data(consented: Client) -> None:
    post_events(consented, [make_event("Purchase", order_id="D4", value=10, currency="USD")])
    report = report_order_paid(order_id="D4", value=10, currency="USD", request=_request("ag.dg.o0", "v" * 22),
                               items=[{"id": "A", "quantity": 1}], user_data=RAW)
    assert report.stored is False
    assert Event.objects.get(name="Purchase", order_id="D4").user_data["em"]


def test_webhook_purchase_uses_stored_consent_of_the_visitor() -> None:
    ConsentRecord.objects.create(visitor_id="w" * 22, analytics="granted", ads="granted", opted_out=True)
    report = report_order_paid(order_id="D5", value=10, currency="USD", visitor_id="w" * 22, items=[], user_data=RAW)
    event = Event.objects.get(event_id=report.event_id)
    assert event.may_share is False and event.visitor_id == "" and event.user_data == {}


def test_server_call_rejects_unknown_currency() -> None:
    with pytest.raises(ValueError, match="ISO 4217"):
        report_order_paid(order_id="D6", value=1, currency="ZZZ", items=[])
