"""The collector: storage with consent, and every bad input of the issue with its documented status."""
from __future__ import annotations

import json
import time

import pytest
from django.test import Client

from socialshop.tracking.models import Event
from tests.tracking.conftest import UA, make_event, post_events

pytestmark = pytest.mark.django_db


def test_collect_stores_consented_event_with_visitor_session_click_ids_and_utm(consented: Client) -> None:
    event = make_event("ViewContent", url="http://testserver/p/x/?fbclid=FB1&gclid=G1&utm_source=instagram&utm_campaign=spring",
                       content_ids=["12"], value=19.5, currency="EUR")
    response = post_events(consented, [event], REMOTE_ADDR="203.0.113.77")
    assert response.status_code == 200
    assert response.json() == {"accepted": 1, "duplicates": 0, "rejected": []}
    stored = Event.objects.get(event_id=event["event_id"])
    assert stored.visitor_id == response.cookies["ss_vid"].value
    assert stored.session_id == response.cookies["ss_sid"].value
    assert stored.click_ids == {"fbclid": "FB1", "gclid": "G1"}
    assert stored.utm == {"utm_source": "instagram", "utm_campaign": "spring"}
    assert stored.ip == "203.0.113.0"
    assert stored.user_agent == UA
    assert stored.may_share is True and stored.gpc is False
    assert str(stored.value) == "19.50" and stored.currency == "EUR" and stored.content_ids == ["12"]


def test_collect_without_consent_stores_anonymous_event_and_sets_no_cookie(shopper: Client) -> None:
    event = make_event(url="http://testserver/p/x/?fbclid=FB1&utm_source=facebook", referrer="https://facebook.com/?x=1")
    response = post_events(shopper, [event], REMOTE_ADDR="203.0.113.77")
    assert response.json()["accepted"] == 1
    assert not response.cookies
    stored = Event.objects.get(event_id=event["event_id"])
    assert (stored.visitor_id, stored.session_id, stored.ip, stored.user_agent) == ("", "", "", "")
    assert stored.click_ids == {} and stored.url == "http://testserver/p/x/" and stored.referrer == "https://facebook.com/"
    assert stored.utm == {"utm_source": "facebook"}
    assert stored.may_share is False


def test_collect_with_sec_gpc_header_stores_event_that_may_not_be_shared(consented: Client) -> None:
    event = make_event(url="http://testserver/?fbclid=FB1")
    post_events(consented, [event], HTTP_SEC_GPC="1")
    stored = Event.objects.get(event_id=event["event_id"])
    assert stored.gpc is True and stored.may_share is False and stored.click_ids == {}
    assert stored.visitor_id  # GPC opts out of sharing, not of the store's own measurement


def test_collect_with_navigator_gpc_flag_in_event_is_not_shared(consented: Client) -> None:
    event = make_event(gpc=True)
    post_events(consented, [event])
    assert Event.objects.get(event_id=event["event_id"]).may_share is False


def test_collect_rejects_malformed_json_with_400(shopper: Client) -> None:
    response = shopper.post("/socialshop/collect/", '{"events": [', content_type="text/plain")
    assert response.status_code == 400
    assert "unparseable" in response.json()["error"]


def test_collect_rejects_body_that_is_not_an_events_object_with_400(shopper: Client) -> None:
    assert shopper.post("/socialshop/collect/", "[1, 2]", content_type="application/json").status_code == 400


def test_collect_rejects_wrong_content_type_with_415(shopper: Client) -> None:
    body = json.dumps({"events": [make_event()]})
    response = shopper.post("/socialshop/collect/", body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert Event.objects.count() == 0


def test_collect_rejects_10_mb_body_with_413(shopper: Client) -> None:
    body = json.dumps({"events": [make_event(search_string="x" * (10 * 1024 * 1024))]})
    response = shopper.post("/socialshop/collect/", body, content_type="text/plain")
    assert response.status_code == 413
    assert Event.objects.count() == 0


def test_collect_rejects_more_than_50_events_with_413(shopper: Client) -> None:
    response = post_events(shopper, [make_event() for _ in range(51)])
    assert response.status_code == 413


def test_collect_rejects_deeply_nested_body_with_400(shopper: Client) -> None:
    body = '{"events": [' + "[" * 20000 + "]" * 20000 + "]}"
    response = shopper.post("/socialshop/collect/", body, content_type="text/plain")
    assert response.status_code == 400


def test_collect_rejects_nested_field_but_keeps_valid_events(shopper: Client) -> None:
    nested: object = "x"
    for _ in range(50):
        nested = [nested]
    good = make_event()
    response = post_events(shopper, [make_event(content_ids=nested), good])
    assert response.json()["accepted"] == 1
    assert response.json()["rejected"][0]["index"] == 0


def test_collect_rejects_nul_bytes_per_event_and_keeps_valid_events(shopper: Client) -> None:
    good = make_event()
    response = post_events(shopper, [make_event(url="http://testserver/\x00evil"), good])
    body = response.json()
    assert response.status_code == 200 and body["accepted"] == 1
    assert body["rejected"] == [{"index": 0, "error": "url contains a NUL byte"}]
    assert Event.objects.filter(event_id=good["event_id"]).exists()


def test_collect_rejects_invalid_utf8_with_400(shopper: Client) -> None:
    body = b'{"events": [{"event_id": "\xff\xfe", "name": "PageView"}]}'
    response = shopper.post("/socialshop/collect/", body, content_type="text/plain")
    assert response.status_code == 400


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e309"])
def test_collect_rejects_non_finite_value_per_event_and_keeps_valid_events(shopper: Client, literal: str) -> None:
    good = make_event()
    bad = json.dumps(make_event("Purchase", currency="USD", order_id="o1")).replace('"currency"', f'"value": {literal}, "currency"')
    body = '{"events": [' + bad + ", " + json.dumps(good) + "]}"
    response = shopper.post("/socialshop/collect/", body, content_type="text/plain")
    assert response.status_code == 200
    assert response.json()["accepted"] == 1
    assert response.json()["rejected"] == [{"index": 0, "error": "value must be a finite number"}]


def test_collect_rejects_a_property_integer_beyond_exact_json_range_and_keeps_valid_events(consented: Client) -> None:
    # NaN elsewhere in the body sends it through the stdlib parser, which keeps huge integers exact;
    # storing one would fail for the whole batch, so only its event is refused.
    good, nan = make_event(), make_event(properties={"n": 1})
    huge = json.dumps(make_event(properties={"n": 1})).replace('"n": 1', '"n": ' + "9" * 30)
    body = '{"events": [' + huge + ", " + json.dumps(good) + ", " + json.dumps(nan).replace('"n": 1', '"n": NaN') + "]}"
    response = consented.post("/socialshop/collect/", body, content_type="text/plain")
    assert response.status_code == 200
    assert response.json()["accepted"] == 1
    assert [r["index"] for r in response.json()["rejected"]] == [0, 2]
    assert "outside the range of exact JSON numbers" in response.json()["rejected"][0]["error"]
    assert Event.objects.filter(event_id=good["event_id"]).exists()


def test_collect_rejects_10000_content_ids_and_keeps_valid_events(shopper: Client) -> None:
    good = make_event()
    response = post_events(shopper, [make_event("ViewContent", content_ids=["1"] * 10_000), good])
    assert response.status_code == 200
    assert response.json()["accepted"] == 1
    assert "content_ids has 10000 items" in response.json()["rejected"][0]["error"]


def test_collect_rejects_unknown_event_name(shopper: Client) -> None:
    response = post_events(shopper, [make_event("Teleport"), make_event()])
    assert response.json()["accepted"] == 1
    assert "name must be one of" in response.json()["rejected"][0]["error"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_collect_outside_a_transaction_counts_a_replay_as_duplicate_and_keeps_the_batch(shopper: Client) -> None:
    # Without a surrounding transaction the collector inserts optimistically (plain INSERT); the
    # replayed id fails that statement and the batch goes in again with ON CONFLICT DO NOTHING.
    event = make_event()
    assert post_events(shopper, [event]).json()["accepted"] == 1
    fresh = make_event()
    replay = post_events(shopper, [event, fresh]).json()
    assert replay == {"accepted": 1, "duplicates": 1, "rejected": []}
    assert Event.objects.filter(event_id__in=[event["event_id"], fresh["event_id"]]).count() == 2


def test_collect_counts_replayed_event_id_as_duplicate(shopper: Client) -> None:
    event = make_event()
    assert post_events(shopper, [event]).json()["accepted"] == 1
    replay = post_events(shopper, [event, make_event()]).json()
    assert replay == {"accepted": 1, "duplicates": 1, "rejected": []}
    assert Event.objects.filter(event_id=event["event_id"]).count() == 1


@pytest.mark.parametrize("offset", [-365 * 86400, 365 * 86400])
def test_collect_rejects_event_a_year_off(shopper: Client, offset: int) -> None:
    response = post_events(shopper, [make_event(time=time.time() + offset), make_event()])
    assert response.json()["accepted"] == 1
    assert "time is more than 7 days old" in response.json()["rejected"][0]["error"]


def test_collect_rejects_non_iso_currency(shopper: Client) -> None:
    response = post_events(shopper, [make_event("Purchase", value=5, currency="XYZ", order_id="1")])
    assert "ISO 4217" in response.json()["rejected"][0]["error"]


def test_collect_stores_script_tags_as_data(shopper: Client) -> None:
    event = make_event("Search", search_string="<script>alert(1)</script>")
    post_events(shopper, [event])
    assert Event.objects.get(event_id=event["event_id"]).search_string == "<script>alert(1)</script>"


def test_collect_answers_429_to_a_flood_from_one_ip(shopper: Client, settings: object) -> None:
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "COLLECT_RATE_LIMIT_PER_MINUTE": 5}
    statuses = [post_events(shopper, [make_event()], REMOTE_ADDR="198.51.100.9").status_code for _ in range(8)]
    assert statuses == [200] * 5 + [429] * 3
    assert post_events(shopper, [make_event()], REMOTE_ADDR="198.51.100.10").status_code == 200
    assert Event.objects.count() == 6


def test_collect_rejects_cross_site_origin_with_403(shopper: Client) -> None:
    response = post_events(shopper, [make_event()], HTTP_ORIGIN="https://evil.example")
    assert response.status_code == 403
    assert Event.objects.count() == 0


def test_collect_accepts_same_origin_and_allowed_origins(shopper: Client, settings: object) -> None:
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "ALLOWED_ORIGINS": ["https://m.shop.example"]}
    assert post_events(shopper, [make_event()], HTTP_ORIGIN="http://testserver").status_code == 200
    assert post_events(shopper, [make_event()], HTTP_ORIGIN="https://m.shop.example").status_code == 200


@pytest.mark.parametrize("agent", ["", "Mozilla/5.0 (compatible; Googlebot/2.1)", "curl/8.5.0",
                                   "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
                                   "facebookexternalhit/1.1", "python-requests/2.32"])
def test_collect_ignores_bots_and_crawlers(agent: str) -> None:
    response = post_events(Client(HTTP_USER_AGENT=agent), [make_event()])
    assert response.status_code == 200
    assert response.json()["accepted"] == 0 and response.json()["ignored"] == 1
    assert Event.objects.count() == 0


def test_collect_keeps_one_purchase_per_order(consented: Client) -> None:
    first = make_event("Purchase", order_id="A-1", value=10, currency="USD")
    second = make_event("Purchase", order_id="A-1", value=10, currency="USD")
    # Both count as accepted: the answer never tells whether an order already has a Purchase (tracking/orders.py).
    assert post_events(consented, [first, second]).json() == {"accepted": 2, "duplicates": 0, "rejected": []}
    assert Event.objects.filter(name="Purchase", order_id="A-1").count() == 1


def test_collect_rejects_get_with_405(shopper: Client) -> None:
    assert shopper.get("/socialshop/collect/").status_code == 405


def test_pixel_always_answers_a_gif_and_stores_only_valid_events(shopper: Client) -> None:
    ok = shopper.get("/socialshop/pixel.gif", {"name": "PageView", "url": "http://testserver/x"})
    bad = shopper.get("/socialshop/pixel.gif", {"name": "Teleport"})
    assert ok.status_code == bad.status_code == 200
    assert ok["Content-Type"] == bad["Content-Type"] == "image/gif"
    assert list(Event.objects.values_list("name", "source")) == [("PageView", "pixel")]


def test_collect_links_signed_in_customer_only_with_consent(consented: Client, shopper: Client) -> None:
    from tests.factories import UserFactory

    user = UserFactory()
    consented.force_login(user)
    shopper.force_login(user)
    with_consent, without = make_event(), make_event()
    post_events(consented, [with_consent])
    post_events(shopper, [without])
    assert Event.objects.get(event_id=with_consent["event_id"]).user_id == user.pk
    assert Event.objects.get(event_id=without["event_id"]).user_id is None


def test_buffered_collect_writes_on_drain_and_counts_replays_as_duplicates(shopper: Client, settings: object) -> None:
    from socialshop.tracking.buffer import event_buffer

    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "COLLECT_BUFFER_MS": 5000}
    event = make_event()
    assert post_events(shopper, [event]).json() == {"accepted": 1, "duplicates": 0, "rejected": []}
    assert post_events(shopper, [event]).json()["duplicates"] == 1
    event_buffer.drain()
    assert Event.objects.filter(event_id=event["event_id"]).count() == 1


def test_check_rejects_bad_collect_settings(settings: object) -> None:
    from socialshop.checks import check_settings

    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "COLLECT_BUFFER_MS": -1, "COLLECT_ASYNC_COMMIT": "yes"}
    messages = " ".join(e.msg for e in check_settings())
    assert "COLLECT_BUFFER_MS" in messages and "COLLECT_ASYNC_COMMIT" in messages
