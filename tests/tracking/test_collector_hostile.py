"""The collector under hostile input (issue #11, 10-12): lone surrogates and NUL at any depth, event ids
with a trailing newline, chunked and compressed bodies. Each answer is documented, never a 500, and
the valid events of a body are kept. Runs on SQLite and (with DATABASE_URL) on PostgreSQL.
"""
from __future__ import annotations

import gzip
import json
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client, RequestFactory

from socialshop.tracking.models import Event
from socialshop.tracking.views import collect_view
from tests.tracking.conftest import UA, make_event, post_events

pytestmark = pytest.mark.django_db

SURROGATE = "\\ud800"  # a JSON escape: json.dumps would write the same six characters
NUL = "\\u0000"
# (field, value as JSON text with {bad} where the hostile escape goes, the path the error names)
HOSTILE_FIELDS = [
    ("url", '"http://testserver/{bad}"', "url"),
    ("referrer", '"https://ref.example/{bad}"', "referrer"),
    ("order_id", '"o-{bad}"', "order_id"),
    ("search_string", '"shoes {bad}"', "search_string"),
    ("post_id", '"p{bad}"', "post_id"),
    ("content_ids", '["ok", "x{bad}"]', "content_ids[1]"),
    ("contents", '[{{"id": "a{bad}", "quantity": 1}}]', "contents[0].id"),
    ("properties", '{{"color": "r{bad}d"}}', "properties.color"),
    ("properties", '{{"k{bad}": 1}}', "properties"),
    ("utm", '{{"utm_source": "{bad}"}}', "utm.utm_source"),
    ("browser_ids", '{{"fbp": "fb.1.{bad}"}}', "browser_ids.fbp"),
    ("anything", '[[{{"deep": ["{bad}"]}}]]', "anything[0][0].deep[0]"),
]


def _body_with(field: str, value: str, *, valid: list[dict[str, Any]]) -> str:
    """A collect body whose first event has ``field`` set to the raw JSON ``value``, then ``valid``."""
    bad = json.dumps(make_event())[:-1] + f', "{field}": {value}}}'
    return '{"events": [' + ", ".join([bad, *(json.dumps(e) for e in valid)]) + "]}"


@pytest.mark.parametrize(("escape", "problem"), [(SURROGATE, "lone UTF-16 surrogate (U+D800)"), (NUL, "NUL byte")])
@pytest.mark.parametrize(("field", "value", "path"), HOSTILE_FIELDS)
def test_collect_rejects_unstorable_string_at_any_depth_and_keeps_valid_events(
    consented: Client, field: str, value: str, path: str, escape: str, problem: str
) -> None:
    good = make_event("ViewContent", content_ids=["sku-1"])
    body = _body_with(field, value.format(bad=escape), valid=[good])
    response = consented.post("/socialshop/collect/", body, content_type="text/plain")
    assert response.status_code == 200, response.content
    answer = response.json()
    assert answer["accepted"] == 1 and answer["duplicates"] == 0
    assert [r["index"] for r in answer["rejected"]] == [0]
    assert path in answer["rejected"][0]["error"] and problem in answer["rejected"][0]["error"]
    assert list(Event.objects.values_list("event_id", flat=True)) == [good["event_id"]]


def test_collect_keeps_valid_surrogate_pairs_and_non_bmp_text(consented: Client) -> None:
    event = make_event("Search", search_string="\U0001F600 shoes \u00e9", content_ids=["\U0001F45F-1"])
    body = json.dumps({"events": [event]})  # ensure_ascii: the emoji travel as a surrogate pair escape
    assert "\\ud83d\\ude00" in body
    response = consented.post("/socialshop/collect/", body, content_type="text/plain")
    assert response.json() == {"accepted": 1, "duplicates": 0, "rejected": []}
    stored = Event.objects.get(event_id=event["event_id"])
    assert stored.search_string == "\U0001F600 shoes \u00e9" and stored.content_ids == ["\U0001F45F-1"]


def test_collect_rejected_surrogate_in_a_list_field_leaves_the_admin_event_pages_working(consented: Client) -> None:
    good = make_event(content_ids=["sku-\u00e9"])
    body = _body_with("content_ids", f'["{SURROGATE}"]', valid=[good])
    assert consented.post("/socialshop/collect/", body, content_type="text/plain").json()["accepted"] == 1
    admin = Client()
    admin.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "pw"))
    assert admin.get("/admin/socialshop/event/").status_code == 200
    stored = Event.objects.get()
    assert admin.get(f"/admin/socialshop/event/{stored.pk}/change/").status_code == 200


def test_collect_rejects_a_key_holding_a_surrogate_with_a_printable_reason(consented: Client) -> None:
    body = _body_with("properties", f'{{"k{SURROGATE}": 1}}', valid=[])
    answer = consented.post("/socialshop/collect/", body, content_type="text/plain").json()
    assert answer["accepted"] == 0
    assert answer["rejected"][0]["error"].startswith("a key of properties (properties.k\\ud800)")


def test_collect_drops_nul_from_utm_and_click_ids_decoded_from_the_url(consented: Client) -> None:
    event = make_event(url="http://testserver/?utm_source=%00&utm_medium=email&fbclid=a%00b")
    assert post_events(consented, [event]).json()["accepted"] == 1
    stored = Event.objects.get()
    assert stored.utm == {"utm_medium": "email"} and stored.click_ids == {}


def test_collect_strips_nul_from_the_user_agent(consented: Client) -> None:
    event = make_event()
    assert post_events(consented, [event], HTTP_USER_AGENT=UA + "\x00x").json()["accepted"] == 1
    assert Event.objects.get().user_agent == UA + "x"


@pytest.mark.parametrize("event_id", ["a" * 64 + "\n", "abc\n", "abc\r\n", "\nabc"])
def test_collect_rejects_event_id_with_a_newline_and_keeps_the_batch(shopper: Client, event_id: str) -> None:
    good = make_event()
    answer = post_events(shopper, [make_event(event_id=event_id), good]).json()
    assert answer["accepted"] == 1
    assert answer["rejected"] == [{"index": 0, "error": "event_id must be 1-64 characters of A-Z a-z 0-9 _ . : -"}]
    assert list(Event.objects.values_list("event_id", flat=True)) == [good["event_id"]]


@pytest.mark.parametrize("query", [
    {"name": "PageView", "url": "http://testserver/\x00"},
    {"name": "PageView", "url": "http://testserver/?utm_source=%00&fbclid=%00"},
    {"name": "PageView", "event_id": "a" * 64 + "\n"},
    {"name": "PageView\x00"},
    {"name": "Search", "search_string": "\U0001F600" * 300},
    {"name": "PageView", "content_ids": "a,\x00,b"},
    {"name": "PageView", "time": "nan", "value": "inf"},
])
def test_pixel_answers_a_gif_to_hostile_queries(consented: Client, query: dict[str, str]) -> None:
    response = consented.get("/socialshop/pixel.gif", query, HTTP_REFERER="http://testserver/\x00")
    assert response.status_code == 200 and response["Content-Type"] == "image/gif"
    for stored in Event.objects.all():
        assert "\x00" not in stored.url + stored.event_id + "".join(stored.utm.values()) + "".join(stored.content_ids)


def test_pixel_stores_a_valid_event_whose_referer_is_clean(consented: Client) -> None:
    response = consented.get("/socialshop/pixel.gif", {"name": "PageView", "utm_source": "x"},
                             HTTP_REFERER="http://testserver/p/?utm_source=%00&utm_medium=cpc")
    assert response.status_code == 200
    assert Event.objects.get().utm == {"utm_medium": "cpc"}


def _post(body: bytes, **meta: str) -> Any:
    request = RequestFactory().post("/socialshop/collect/", body, content_type="text/plain", HTTP_USER_AGENT=UA, **meta)
    return request


def test_collect_answers_411_to_a_chunked_body_without_content_length() -> None:
    body = json.dumps({"events": [make_event()]}).encode()
    request = _post(body, HTTP_TRANSFER_ENCODING="chunked")
    del request.META["CONTENT_LENGTH"]
    response = collect_view(request)
    assert response.status_code == 411
    assert "Content-Length required" in json.loads(response.content)["error"]
    assert "chunked" in json.loads(response.content)["error"]
    assert Event.objects.count() == 0


def test_collect_answers_400_to_a_content_length_that_is_not_a_number() -> None:
    request = _post(b'{"events": []}')
    request.META["CONTENT_LENGTH"] = "ten"
    response = collect_view(request)
    assert response.status_code == 400 and "is not a number" in json.loads(response.content)["error"]


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br", "GZIP, identity"])
def test_collect_answers_415_to_a_compressed_body(shopper: Client, encoding: str) -> None:
    body = gzip.compress(json.dumps({"events": [make_event()]}).encode())
    response = shopper.post("/socialshop/collect/", body, content_type="application/json", HTTP_CONTENT_ENCODING=encoding)
    assert response.status_code == 415
    assert "not supported; send the body uncompressed" in response.json()["error"]
    assert Event.objects.count() == 0


def test_collect_accepts_identity_content_encoding(shopper: Client) -> None:
    response = post_events(shopper, [make_event()], HTTP_CONTENT_ENCODING="identity")
    assert response.json()["accepted"] == 1
