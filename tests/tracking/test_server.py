"""Server-side events: cart changes and paid orders, consent, hashing, one Purchase per order, the server's
report replacing a browser (maybe forged) copy, and the collector not telling whether an order exists."""
from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.contrib.sessions.middleware import SessionMiddleware
from django.test import Client, RequestFactory

from socialshop.privacy.models import ConsentRecord
from socialshop.tracking.forwarding import forward_events
from socialshop.tracking.models import Delivery, Event
from socialshop.tracking.outbox import create_deliveries
from socialshop.tracking.server import (
    pop_pending_events, purchase_event_id, report_cart_change, report_order_paid,
)
from tests.fakes.platforms import FakePlatforms
from tests.platforms.conftest import fake, fake_server  # noqa: F401 - the fake platform server fixtures
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


def _cart_request(data: dict[str, str], **headers: str) -> object:
    request = RequestFactory().post("/cart/add/", data, HTTP_USER_AGENT="Mozilla/5.0 Firefox/125.0", **headers)
    SessionMiddleware(lambda r: None).process_request(request)
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    request.COOKIES.update({"ss_consent": "ag.dg.o0", "ss_vid": "v" * 22})
    return request


def test_cart_change_takes_the_event_id_post_and_tag_posts_js_sent_and_is_stored_once(consented: Client) -> None:
    request = _cart_request({"product_id": "SKU-1", "quantity": "1", "socialshop_event_id": "hotspot-add-1",
                             "socialshop_post_id": "7", "socialshop_tag_id": "3"})
    report = report_cart_change(request, catalog_id="SKU-1", quantity=1, item_price=5, currency="USD")
    assert report.event_id == "hotspot-add-1" and report.stored is True
    event = Event.objects.get(event_id="hotspot-add-1")
    assert (event.name, event.source, event.post_id, event.tag_id) == ("AddToCart", "server", "7", "3")
    assert pop_pending_events(request) == []  # the browser has this event already: not queued back
    echo = make_event("AddToCart", event_id="hotspot-add-1", post_id="7", tag_id="3", value=5, currency="USD")
    assert post_events(consented, [echo]).json() == {"accepted": 0, "duplicates": 1, "rejected": []}
    assert Event.objects.filter(name="AddToCart").count() == 1


def test_cart_change_takes_the_event_id_header_and_refuses_bad_or_purchase_shaped_ids() -> None:
    by_header = report_cart_change(_cart_request({}, HTTP_X_SOCIALSHOP_EVENT_ID="from-header"),
                                   catalog_id="A", quantity=1, item_price=1)
    assert by_header.event_id == "from-header"
    for bad in ("purchase-1001", "has space", "x" * 65):
        request = _cart_request({"socialshop_event_id": bad})
        report = report_cart_change(request, catalog_id="A", quantity=1, item_price=1)
        assert report.event_id != bad and len(pop_pending_events(request)) == 1  # a new id, queued for the tag


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
    again = report_order_paid(order_id="D3", value=99, currency="USD", items=[{"id": "B", "quantity": 1}])
    browser = make_event("Purchase", event_id="other-id", order_id="D3", value=10, currency="USD")
    assert server.stored is True and again.stored is False
    post_events(consented, [browser])
    assert Event.objects.filter(name="Purchase", order_id="D3").count() == 1
    assert Event.objects.get(order_id="D3").value == Decimal("10.00")  # the first server report stays


def test_real_orders_browser_copy_after_the_server_copy_is_a_duplicate(consented: Client) -> None:
    report_order_paid(order_id="D7", value=Decimal("30.00"), currency="USD", request=_request("ag.dg.o0", "v" * 22),
                      items=[{"id": "A", "quantity": 1}], user_data=RAW)
    copy = make_event("Purchase", event_id=purchase_event_id("D7"), order_id="D7", value=30, currency="USD",
                      content_ids=["A"], browser_ids={"fbp": "fb.1.1.2"})
    post_events(consented, [copy])
    event = Event.objects.get(order_id="D7")
    assert Event.objects.count() == 1
    assert (event.source, event.visitor_id, event.value, event.browser_ids) == ("server", "v" * 22, Decimal("30.00"), {})


def test_server_purchase_after_same_visitors_browser_purchase_keeps_the_visit_and_adds_identity(consented: Client) -> None:
    post_events(consented, [make_event("Purchase", event_id=purchase_event_id("D4"), order_id="D4", value=10, currency="USD",
                                       url="http://testserver/done?fbclid=CLICK", browser_ids={"fbp": "fb.1.1.2"})])
    visitor = consented.cookies["ss_vid"].value
    report = report_order_paid(order_id="D4", value=12, currency="USD", request=_request("ag.dg.o0", visitor),
                               items=[{"id": "A", "quantity": 1}], user_data=RAW)
    assert (report.stored, report.replaced) == (True, True)
    event = Event.objects.get(name="Purchase", order_id="D4")
    assert event.user_data["em"] and event.value == Decimal("12.00") and event.source == "server"
    assert event.visitor_id == visitor and event.browser_ids == {"fbp": "fb.1.1.2"}
    assert event.click_ids == {"fbclid": "CLICK"} and event.session_id


def test_forged_browser_purchase_is_replaced_by_the_server_report_and_forwarded_once(
    consented: Client, fake: FakePlatforms,
) -> None:
    # A visitor posts a Purchase for an order number that does not exist yet (the next one).
    forged = make_event("Purchase", event_id=purchase_event_id("1001"), order_id="1001", value=0.01, currency="USD",
                        content_ids=["CHEAP"], contents=[{"id": "CHEAP", "quantity": 1, "item_price": 0.01}],
                        url="http://testserver/x?fbclid=FORGER", browser_ids={"fbp": "fb.1.9.9"})
    assert post_events(consented, [forged]).json()["accepted"] == 1
    forger = consented.cookies["ss_vid"].value
    assert create_deliveries().total == 0  # a browser-only Purchase is never forwarded
    report = report_order_paid(order_id="1001", value=Decimal("125.50"), currency="EUR", user_data=RAW,
                               request=_request("ag.dg.o0", "b" * 22),
                               items=[{"id": "SKU-9", "quantity": 2, "item_price": Decimal("62.75")}])
    assert (report.stored, report.replaced) == (True, True)
    event = Event.objects.get(name="Purchase", order_id="1001")
    assert (event.event_id, event.source, event.value, event.currency) == ("purchase-1001", "server", Decimal("125.50"), "EUR")
    assert event.content_ids == ["SKU-9"] and event.contents == [{"id": "SKU-9", "quantity": 2, "item_price": 62.75}]
    assert event.visitor_id == "b" * 22 and event.user_data["em"]
    assert (event.click_ids, event.browser_ids) == ({}, {})  # nothing of the forger's visit is left
    assert not Event.objects.filter(visitor_id=forger).exclude(user_data={}).exists()
    assert not Event.objects.filter(visitor_id=forger, name="Purchase").exists()

    create_deliveries()
    forward_events()
    platforms = ("meta", "google", "pinterest", "tiktok")
    sent = Delivery.objects.filter(event=event)
    assert sorted(d.platform for d in sent) == sorted(platforms) and {d.status for d in sent} == {"sent"}
    for slug in platforms:
        assert fake.event_ids(slug) == ["purchase-1001"]
    meta = fake.received["meta"][0]
    assert meta["custom_data"]["value"] == 125.5 and meta["custom_data"]["currency"] == "EUR"


def test_event_squatting_on_an_orders_purchase_id_gives_way(consented: Client) -> None:
    post_events(consented, [make_event("PageView", event_id=purchase_event_id("1002"))])
    report = report_order_paid(order_id="1002", value=5, currency="USD", items=[{"id": "A", "quantity": 1}])
    assert report.stored is True
    assert Event.objects.get(event_id="purchase-1002").name == "Purchase"
    assert Event.objects.get(name="PageView").event_id.startswith("displaced-")


def test_collector_answer_is_the_same_for_known_and_unknown_order_numbers(consented: Client, shopper: Client) -> None:
    report_order_paid(order_id="K1", value=10, currency="USD", items=[{"id": "A", "quantity": 1}])
    probes = {  # each kind of probe, for the known and the unknown order number
        "purchase id": lambda order: make_event("Purchase", event_id=purchase_event_id(order), order_id=order,
                                                value=0.01, currency="USD"),
        "order number": lambda order: make_event("Purchase", order_id=order, value=0.01, currency="USD"),
        "id alone": lambda order: make_event("PageView", event_id=purchase_event_id(order)),
    }
    for client in (consented, shopper):
        for kind, probe in probes.items():
            known, unknown = (post_events(client, [probe(order)]) for order in ("K1", "U1"))
            assert (known.status_code, known.json()) == (unknown.status_code, unknown.json()), kind
            assert known.json() == {"accepted": 1, "duplicates": 0, "rejected": []}, kind
    assert Event.objects.get(order_id="K1").source == "server"  # the known order's row is untouched


def test_webhook_purchase_uses_stored_consent_of_the_visitor() -> None:
    ConsentRecord.objects.create(visitor_id="w" * 22, analytics="granted", ads="granted", opted_out=True)
    report = report_order_paid(order_id="D5", value=10, currency="USD", visitor_id="w" * 22, items=[], user_data=RAW)
    event = Event.objects.get(event_id=report.event_id)
    assert event.may_share is False and event.visitor_id == "" and event.user_data == {}


def test_server_call_rejects_unknown_currency() -> None:
    with pytest.raises(ValueError, match="ISO 4217"):
        report_order_paid(order_id="D6", value=1, currency="ZZZ", items=[])
