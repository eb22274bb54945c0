"""Property-based tests of the collector (issue #11, 13): random and hostile bodies never get a 500,
``accepted`` equals the rows added, and a valid event sent alongside hostile ones is always stored.

Run on SQLite and, with DATABASE_URL, on PostgreSQL (no marker: both CI passes run them). The last
tests send the same kind of bodies to a running server (``live_server``), as the issue asks.
"""
from __future__ import annotations

import http.client
import json
import math
import time
import uuid
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings, strategies as st

from socialshop.tracking.collector import rate_limiter
from socialshop.tracking.models import Event
from socialshop.tracking.validation import EVENT_NAMES, MAX_BODY_BYTES
from tests.tracking.conftest import UA

FUZZ = settings(max_examples=150, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
LIVE = settings(FUZZ, max_examples=30)
FIELDS = ("event_id", "name", "time", "url", "referrer", "content_ids", "contents", "value", "currency",
          "post_id", "tag_id", "search_string", "order_id", "properties", "browser_ids", "gpc", "utm")
DOCUMENTED = {200, 400, 411, 413, 415}

# Characters that broke or could break something: lone surrogates, NUL and other controls, line and
# paragraph separators, non-characters, non-BMP text, quotes, backslashes, markup.
HOSTILE_CHARS = ["\ud800", "\udfff", "\udbff", "\x00", "\x01", "\x1f", "\x7f", "\n", "\r", "\t", "\u2028",
                 "\u2029", "\ufeff", "\ufffe", "\uffff", "\U0001F600", "\U0010FFFF", '"', "\\", "<", "&", "%00", "%"]
hostile_text = st.one_of(
    st.lists(st.one_of(st.sampled_from(HOSTILE_CHARS), st.characters(codec="utf-8")), max_size=40).map("".join),
    st.text(st.characters(), max_size=20),  # any code point, surrogates included
    st.builds(lambda c, n: c * n, st.sampled_from(["x", "\U0001F600", "\ud800", "\x00"]),
              st.sampled_from([63, 64, 65, 256, 257, 2048, 2049, 20000])),
    st.builds(lambda base, extra: base + extra, st.sampled_from(["a" * 64, "abc", "http://testserver/?utm_source="]),
              st.sampled_from(["\n", "\r\n", "%00", "\x00", "\ud800", "&fbclid=%00", ""])),
)
hostile_number = st.one_of(
    st.integers(), st.integers(min_value=-(2**70), max_value=2**70), st.sampled_from([2**53, 2**53 + 1, 2**64, 10**300]),
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([math.nan, math.inf, -math.inf, 1e308, -0.0, 5e-324]),
)
# Object keys: a few hostile ones and short random text (cheap to draw unique).
hostile_key = st.one_of(st.sampled_from(["", "k", "\ud800", "a\x00", "x" * 65, "\U0001F600", "__proto__"]),
                        st.text(st.characters(), max_size=6))
scalar = st.one_of(st.none(), st.booleans(), hostile_number, hostile_text)
any_json = st.recursive(scalar, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(hostile_key, inner, max_size=4)), max_leaves=12)


def deep(depth: int, leaf: Any) -> Any:
    for level in range(depth):
        leaf = [leaf] if level % 2 else {"k": leaf}
    return leaf


def valid_event(**extra: Any) -> dict[str, Any]:
    return {"event_id": uuid.uuid4().hex, "name": "ViewContent", "time": time.time(), "url": "http://testserver/p/1/",
            "content_ids": ["sku-1"], "value": 12.5, "currency": "EUR", **extra}


# A field's value: often right in shape (so validation goes past the type checks), often hostile.
field_value = {
    "event_id": st.one_of(st.uuids().map(lambda u: u.hex), hostile_text, scalar),
    "name": st.one_of(st.sampled_from(sorted(EVENT_NAMES)), hostile_text, scalar),
    "time": st.one_of(st.floats(time.time() - 3600, time.time()), hostile_number, hostile_text),
    "content_ids": st.one_of(st.lists(hostile_text, max_size=5), any_json, st.builds(deep, st.integers(1, 600), hostile_text)),
    "contents": st.one_of(st.lists(st.fixed_dictionaries({"id": hostile_text}, optional={
        "quantity": st.one_of(st.integers(-5, 20000), hostile_number), "item_price": hostile_number}), max_size=4), any_json),
    "properties": st.one_of(st.dictionaries(hostile_key, scalar, max_size=25), any_json),
    "browser_ids": st.one_of(st.dictionaries(st.sampled_from(["fbp", "fbc", "ttp", "ga", "epik", "x"]), scalar), any_json),
    "value": st.one_of(hostile_number, hostile_text),
    "url": st.one_of(hostile_text, hostile_text.map(lambda text: "http://testserver/?utm_source=" + text), any_json),
    "currency": st.one_of(st.sampled_from(["EUR", "USD", "eur", "XXXX"]), hostile_text),
}
# A valid event with one to three fields made hostile: it gets past the type checks, so the hostile
# value reaches the deeper checks and the database (how the surrogate and NUL 500s were found).
mutated_event = st.builds(
    lambda event_id, changes: {**valid_event(), "event_id": event_id.hex, **changes},
    st.uuids(),
    st.lists(st.sampled_from(FIELDS), min_size=1, max_size=3, unique=True).flatmap(
        lambda keys: st.fixed_dictionaries({key: field_value.get(key, st.one_of(hostile_text, any_json)) for key in keys})),
)
# Any mix of fields, each possibly hostile.
random_event = st.fixed_dictionaries(
    {"event_id": field_value["event_id"], "name": field_value["name"], "time": field_value["time"]},
    optional={key: field_value.get(key, st.one_of(hostile_text, any_json)) for key in FIELDS[3:]},
)
events = st.lists(st.one_of(mutated_event, mutated_event, random_event, any_json), max_size=8)


def encode(body: Any) -> bytes:
    """JSON as a browser could send it: surrogates as \\uXXXX escapes, NaN/Infinity as literals."""
    return json.dumps(body, ensure_ascii=True, allow_nan=True).encode()


raw_bodies = st.one_of(
    st.binary(max_size=200),
    st.builds(lambda n: b'{"events": [' + b"[" * n + b"]" * n + b"]}", st.integers(1, 30000)),
    st.builds(lambda n: b'{"events": [' + b'{"a":' * n + b"1" + b"}" * n + b"]}", st.integers(1, 3000)),
    any_json.map(encode),
    st.builds(lambda e: encode({"events": e}), st.one_of(any_json, st.lists(any_json, max_size=60))),
)


def _post(client: Client, body: bytes) -> Any:
    rate_limiter.reset()
    return client.post("/socialshop/collect/", body, content_type="text/plain")


def _assert_answer(response: Any, added: int, sent: Any) -> None:
    assert response.status_code in DOCUMENTED, (response.status_code, response.content[:300])
    answer = json.loads(response.content)
    if response.status_code != 200:
        assert isinstance(answer["error"], str) and answer["error"]
        return
    assert answer["accepted"] == added, answer
    if isinstance(sent, list):
        assert answer["accepted"] + answer["duplicates"] + len(answer["rejected"]) == len(sent), answer


@pytest.fixture
def browser_client() -> Client:
    client = Client(HTTP_USER_AGENT=UA)
    client.cookies["ss_consent"] = "ag.dg.o0"
    return client


@pytest.mark.django_db
@FUZZ
@given(hostile=events, position=st.integers(0, 8))
def test_hostile_events_never_give_a_500_and_the_valid_one_is_always_stored(
    browser_client: Client, hostile: list[Any], position: int
) -> None:
    good = valid_event()
    batch = [*hostile[:position], good, *hostile[position:]]
    body = encode({"events": batch})
    before = Event.objects.count()
    response = _post(browser_client, body)
    _assert_answer(response, Event.objects.count() - before, batch)
    if len(body) <= MAX_BODY_BYTES:
        assert response.status_code == 200
        assert Event.objects.filter(event_id=good["event_id"]).exists(), json.loads(response.content)


@pytest.mark.django_db
@FUZZ
@given(body=raw_bodies)
def test_random_bodies_never_give_a_500_and_accepted_counts_the_rows_added(browser_client: Client, body: bytes) -> None:
    before = Event.objects.count()
    response = _post(browser_client, body)
    try:
        sent = json.loads(body)["events"]
    except Exception:
        sent = None
    _assert_answer(response, Event.objects.count() - before, sent)


pixel_query = st.lists(st.tuples(
    st.sampled_from(["event_id", "name", "time", "value", "url", "referrer", "currency", "order_id", "search_string",
                     "post_id", "tag_id", "content_ids", "x"]),
    st.one_of(hostile_text, st.sampled_from(["PageView", "nan", "inf", "-1e400", "1e400", "EUR", "a,,\x00,b"]))), max_size=10)


@pytest.mark.django_db
@FUZZ
@given(query=pixel_query, referer=st.sampled_from(["", "http://testserver/?utm_source=%00", "http://x/\x00", "\U0001F600"]))
def test_pixel_always_answers_the_gif_and_stores_only_clean_events(
    browser_client: Client, query: list[tuple[str, str]], referer: str
) -> None:
    rate_limiter.reset()
    before = Event.objects.count()
    response = browser_client.get("/socialshop/pixel.gif?" + urlencode(query, errors="surrogatepass"), HTTP_REFERER=referer)
    assert response.status_code == 200 and response["Content-Type"] == "image/gif"
    assert Event.objects.count() - before <= 1
    for event in Event.objects.order_by("-id")[: Event.objects.count() - before]:
        text = event.event_id + event.url + event.referrer + "".join(event.content_ids) + json.dumps(event.utm)
        assert "\x00" not in text and "\\u0000" not in text


# --- a running server ----------------------------------------------------------------------------

def _send(url: str, body: bytes, *, headers: dict[str, str] | None = None, chunked: bool = False) -> tuple[int, Any]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        heads = {"Content-Type": "text/plain", "User-Agent": UA, "Cookie": "ss_consent=ag.dg.o0", **(headers or {})}
        if chunked:
            connection.request("POST", "/socialshop/collect/", body=iter([body]), headers=heads, encode_chunked=True)
        else:
            connection.request("POST", "/socialshop/collect/", body=body, headers=heads)
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        connection.close()


# GOOD is a valid event, NOW the current time; each body also holds one event the database cannot take.
HOSTILE_BODIES = [
    '{"events": [GOOD, {"event_id": "a\\ud800", "name": "PageView", "time": NOW}]}',
    '{"events": [GOOD, {"event_id": "x1", "name": "PageView", "time": NOW, "url": "http://t/\\ud800"}]}',
    '{"events": [{"event_id": "x2", "name": "PageView", "time": NOW, "content_ids": ["\\udfff"]}, GOOD]}',
    '{"events": [GOOD, {"event_id": "x3", "name": "PageView", "time": NOW, "properties": {"\\u0000": 1}}]}',
    '{"events": [GOOD, {"event_id": "' + "a" * 64 + '\\n", "name": "PageView", "time": NOW}]}',
    '{"events": [GOOD, {"event_id": "x5", "name": "Purchase", "time": NOW, "value": NaN, "currency": "EUR"}]}',
    '{"events": [GOOD, {"event_id": "x6", "name": "PageView", "time": NOW, "url": "http://t/?utm_source=%00"}]}',
    '{"events": [GOOD, [[[[[[[[[[[[[[[[[[[["\\ud800"]]]]]]]]]]]]]]]]]]]], "\\u0000"]}',
]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("template", HOSTILE_BODIES)
def test_running_server_answers_hostile_bodies_and_stores_every_valid_event(live_server: Any, template: str) -> None:
    rate_limiter.reset()
    good = valid_event()
    body = template.replace("GOOD", json.dumps(good)).replace("NOW", str(time.time())).encode()
    status, answer = _send(live_server.url, body)
    assert status == 200, answer
    assert Event.objects.filter(event_id=good["event_id"]).exists()
    assert answer["accepted"] == Event.objects.count()
    assert "\x00" not in json.dumps(list(Event.objects.values_list("utm", "url")))


@pytest.mark.django_db(transaction=True)
@LIVE
@given(hostile=events)
def test_running_server_never_answers_500_to_random_hostile_events(live_server: Any, hostile: list[Any]) -> None:
    rate_limiter.reset()
    good = valid_event()
    batch = [good, *hostile]
    before = Event.objects.count()
    status, answer = _send(live_server.url, encode({"events": batch}))
    assert status in DOCUMENTED, answer
    if status == 200:
        assert answer["accepted"] == Event.objects.count() - before
        assert Event.objects.filter(event_id=good["event_id"]).exists()


@pytest.mark.django_db(transaction=True)
def test_running_server_answers_411_to_a_chunked_body_and_415_to_gzip(live_server: Any) -> None:
    rate_limiter.reset()
    body = encode({"events": [valid_event()]})
    status, answer = _send(live_server.url, body, chunked=True)
    assert status == 411 and "Content-Length required" in answer["error"]
    status, answer = _send(live_server.url, body, headers={"Content-Encoding": "gzip"})
    assert status == 415 and "uncompressed" in answer["error"]
    status, answer = _send(live_server.url, body)
    assert status == 200 and answer["accepted"] == 1 == Event.objects.count()
