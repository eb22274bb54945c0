"""Every validating regex matches the whole value (issue #11, 11): ``$`` also matches before a final
newline, so ``re.match(r"^...$")`` let "value\\n" through. Each test here failed with ``$``.

Audited and left as they are (not validation, or their input is stripped first): the BOT_RE and
posts hashtag/mention searches, catalog/paths.py (fullmatch already), feeds/urls.py (Django
fullmatches a ``$``-ended endpoint pattern: ``test_feed_url_with_a_final_newline_is_not_found``),
feeds/items.py ``_GROUP_ID``/``_HEX_COLOR`` and privacy/hashing.py (inputs ``.strip()``-ped).
"""
from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import Client, RequestFactory

from socialshop.platforms.checks import check_platforms
from socialshop.privacy.consent import consent_from_request, visitor_id_from_request
from socialshop.tracking.models import Event
from socialshop.tracking.validation import EVENT_ID_RE, EventRejected, clean_event
from tests.fakes.platforms import CREDENTIALS
from tests.tracking.conftest import UA, make_event, post_events


def test_event_id_with_a_final_newline_is_rejected() -> None:
    event = make_event(event_id="a" * 64 + "\n")
    with pytest.raises(EventRejected, match="event_id must be"):
        clean_event(event, now=event["time"])
    assert EVENT_ID_RE.fullmatch("a" * 64) and not EVENT_ID_RE.fullmatch("a" * 65)


def _request_with_cookie(cookie: str) -> Any:
    return RequestFactory().get("/", HTTP_COOKIE=cookie)


def test_visitor_cookie_with_a_final_newline_is_not_a_visitor_id() -> None:
    # A quoted cookie's octal escape unquotes to a newline: "...\012" -> "...\n".
    request = _request_with_cookie('ss_vid="' + "a" * 40 + '\\012"')
    assert request.COOKIES["ss_vid"] == "a" * 40 + "\n"
    assert visitor_id_from_request(request) == ""
    assert visitor_id_from_request(_request_with_cookie("ss_vid=" + "a" * 40)) == "a" * 40


def test_consent_cookie_with_a_final_newline_is_not_a_consent() -> None:
    state = consent_from_request(_request_with_cookie('ss_consent="ag.dg.o0\\012"'))
    assert (state.analytics, state.ads) == ("unset", "unset")
    assert consent_from_request(_request_with_cookie("ss_consent=ag.dg.o0")).analytics == "granted"


@pytest.mark.django_db
def test_collect_with_a_visitor_cookie_ending_in_a_newline_stores_the_event_under_a_new_id() -> None:
    # Before: the 41-character id was stored (PostgreSQL: value too long, a 500 losing the batch).
    client = Client(HTTP_USER_AGENT=UA)
    event = make_event()
    cookie = 'ss_consent=ag.dg.o0; ss_vid="' + "a" * 40 + '\\012"; ss_sid=' + "\u00e9" * 20
    response = post_events(client, [event], HTTP_COOKIE=cookie)
    assert response.json()["accepted"] == 1
    stored = Event.objects.get()
    assert stored.visitor_id == response.cookies["ss_vid"].value and stored.visitor_id != "a" * 40
    assert stored.session_id == response.cookies["ss_sid"].value and stored.session_id.isascii()


def _check(settings: Any, key: str, value: Any) -> None:
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, key: value}
    call_command("check", "socialshop", stdout=open("/dev/null", "w"))


@pytest.mark.parametrize(("key", "value"), [
    ("CURRENCY", "USD\n"),
    ("SITE_URL", "https://shop.example.com/\n"),
    ("SITE_URL", "https://shop.example.com\n"),
    ("ALLOWED_ORIGINS", ["https://shop.example.com\n"]),
    ("ALLOWED_ORIGINS", ["https://shop.example.com evil"]),
])
def test_setting_with_a_final_newline_fails_the_check(settings: Any, key: str, value: Any) -> None:
    with pytest.raises(SystemCheckError, match=rf"SOCIALSHOP\['{key}'\]"):
        _check(settings, key, value)


@pytest.mark.parametrize(("key", "value"), [
    ("CURRENCY", "USD"), ("SITE_URL", "https://shop.example.com/shop/"), ("ALLOWED_ORIGINS", ["http://127.0.0.1:8000"]),
])
def test_the_same_settings_without_the_newline_pass(settings: Any, key: str, value: Any) -> None:
    _check(settings, key, value)


def test_platform_api_base_with_a_final_newline_fails_the_check(settings: Any) -> None:
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "PLATFORMS": {
        "google": {**CREDENTIALS["google"], "api_base": "http://127.0.0.1:8300\n"}}}
    assert [e.id for e in check_platforms()] == ["socialshop.E042"]


@pytest.mark.django_db
def test_feed_url_with_a_final_newline_is_not_found(client: Client) -> None:
    assert client.get("/socialshop/feeds/anything.xml%0A").status_code == 404
