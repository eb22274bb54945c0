"""Right to erasure (privacy/erasure.py and the receivers of tracking, audiences and campaigns): after a
visitor's erasure no socialshop table holds their id, another visitor's rows are untouched, the work
is set-based, and bad requests erase nothing."""
from __future__ import annotations

import json
import time
import uuid
from datetime import timedelta
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection, models
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from socialshop.audiences.builder import build_audience
from socialshop.audiences.models import (
    Audience, AudienceChange, AudienceMember, ChangeOp, Destination, DestinationMember, RuleKind, VisitorLink,
)
from socialshop.campaigns.models import Assignment, Campaign, CampaignMember, IssuedCode, Suppression, Touch
from socialshop.privacy.erasure import MAX_IDS, ErasureError, erase_visitors
from socialshop.privacy import consent
from socialshop.privacy.consent import ConsentState, record_consent
from socialshop.privacy.models import ConsentRecord
from socialshop.tracking.collector import rate_limiter
from socialshop.tracking.interest import update_interest
from socialshop.tracking.models import Delivery, Event, Interest
from socialshop.tracking.retention import purge_old_events

pytestmark = pytest.mark.django_db
UA = "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"


def holding(text: str) -> dict[str, int]:
    """Rows of every socialshop model whose text, char or JSON columns contain ``text`` (an outsider's scan)."""
    found: dict[str, int] = {}
    with connection.cursor() as cursor:
        for model in apps.get_app_config("socialshop").get_models():
            columns = [f.column for f in model._meta.concrete_fields
                       if isinstance(f, (models.CharField, models.TextField, models.JSONField))]
            if not columns:
                continue
            table = connection.ops.quote_name(model._meta.db_table)
            where = " OR ".join(f"CAST({connection.ops.quote_name(c)} AS TEXT) LIKE %s" for c in columns)
            cursor.execute(f"SELECT COUNT(*) FROM {table} WHERE {where}", [f"%{text}%"] * len(columns))
            count = cursor.fetchone()[0]
            if count:
                found[model.__name__] = count
    return found


def browser() -> Client:
    """A shopper who accepted everything on the banner: the server gives them a visitor cookie."""
    client = Client(HTTP_USER_AGENT=UA)
    answer = client.post("/socialshop/privacy/consent/", json.dumps({"analytics": True, "ads": True}),
                         content_type="application/json")
    assert answer.status_code == 200 and client.cookies["ss_vid"].value
    return client


def shop(client: Client, *, post: str = "post-1") -> str:
    """Browse, cart, engage with a post and buy, through the collector; returns the visitor id."""
    rate_limiter.reset()
    now = time.time()
    events = [
        {"name": "ViewContent", "content_ids": ["sku-1"], "value": 10, "currency": "USD"},
        {"name": "AddToCart", "content_ids": ["sku-2"], "value": 12, "currency": "USD"},
        {"name": "PostLike", "post_id": post},
        {"name": "Purchase", "content_ids": ["sku-3"], "value": 30, "currency": "USD", "order_id": uuid.uuid4().hex[:12]},
    ]
    body = {"events": [{"event_id": uuid.uuid4().hex, "time": now - 7200, "url": "http://testserver/p/?ref=x", **e}
                       for e in events]}
    answer = client.post("/socialshop/collect/", json.dumps(body), content_type="text/plain")
    assert answer.status_code == 200 and answer.json()["accepted"] == 4, answer.content
    return client.cookies["ss_vid"].value


def derive(visitors: list[str], *, user_id: int) -> None:
    """What the rest of socialshop makes from their events: interest, links, audiences, uploads, campaigns."""
    now = timezone.now()
    # The last visitor also signed in on another visit: an account event links them (u:<user>).
    Event.objects.create(event_id=uuid.uuid4().hex, name="PageView", occurred_at=now - timedelta(hours=3),
                         received_at=now, visitor_id=visitors[-1], user_id=user_id, may_share=True)
    for visitor in visitors:
        Delivery.objects.create(event=Event.objects.filter(visitor_id=visitor).first(), platform="meta")
    update_interest()
    for slug, kind in (("engagers", RuleKind.POST_ENGAGERS), ("carts", RuleKind.CART_ABANDONERS),
                       ("buyers", RuleKind.PURCHASERS)):
        audience = Audience.objects.create(name=slug, slug=slug, kind=kind, lookback_days=30)
        assert build_audience(audience).status == "succeeded"
    engagers = Audience.objects.get(slug="engagers")
    destination = Destination.objects.create(audience=engagers, platform="meta")
    campaign = Campaign.objects.create(name="c", slug="c", channels=["email"])
    for member in AudienceMember.objects.filter(audience=engagers):
        DestinationMember.objects.create(destination=destination, person=member.person, hashes={"em": "a" * 64},
                                         added_at=now)
        for op, status in ((ChangeOp.ADD, "sent"), (ChangeOp.ADD, "pending")):
            AudienceChange.objects.create(destination=destination, platform="meta", person=member.person,
                                          visitor_id=member.visitor_id, op=op, status=status)
        Assignment.objects.create(campaign=campaign, person=member.person, bucket=0.5, qualified_at=now, assigned_at=now)
        CampaignMember.objects.create(campaign=campaign, person=member.person, state="targeted", qualified_at=now,
                                      updated_at=now)
        Touch.objects.create(person=member.person, campaign=campaign, channel="email", at=now)
        IssuedCode.objects.create(campaign=campaign, person=member.person, code=uuid.uuid4().hex[:10],
                                  expires_at=now + timedelta(days=3))
        Suppression.objects.create(person=member.person, channel="email")


@pytest.fixture
def two_shoppers(django_user_model: Any) -> tuple[Client, str, str, int]:
    """Three shoppers with the same history and everything made from it: (the first's browser, the first's
    id, the second's id, the account of a third, who also signed in once; the third's id is ``signed``)."""
    user = django_user_model.objects.create_user(username="ann", password="x")
    first, second, third = browser(), browser(), browser()
    ids = [shop(first), shop(second), shop(third)]
    derive(ids, user_id=user.pk)
    SIGNED[:] = [ids[2]]
    return first, ids[0], ids[1], user.pk


SIGNED: list[str] = []  # the signed-in shopper's visitor id, set by the fixture


def test_every_table_held_the_visitor_before_the_erasure(two_shoppers: tuple[Client, str, str, int]) -> None:
    _client, gone, _kept, _user = two_shoppers
    held = holding(gone)
    # The scan sees the id where the pipeline put it, so its silence after an erasure means something.
    assert {"Event", "Interest", "ConsentRecord", "AudienceMember", "AudienceChange", "Assignment",
            "CampaignMember", "Touch", "IssuedCode", "Suppression", "DestinationMember", "Delivery"} - {"Delivery"} <= set(held)
    assert Delivery.objects.filter(event__visitor_id=gone).exists()
    assert "VisitorLink" in holding(SIGNED[0])
    assert AudienceMember.objects.filter(person=f"u:{_user}", visitor_id=SIGNED[0]).exists()


def test_erasing_from_the_privacy_page_leaves_no_row_holding_the_visitor_id(
        two_shoppers: tuple[Client, str, str, int]) -> None:
    client, gone, kept, user_id = two_shoppers
    before_kept = holding(kept)
    engagers_before = AudienceMember.objects.filter(audience__slug="engagers", left_at__isnull=True).count()

    answer = client.post("/socialshop/privacy/", {"choice": "erase"})

    assert answer.status_code == 302
    assert client.cookies["ss_vid"].value == ""  # the id cookie is deleted
    assert holding(gone) == {}
    assert holding(kept) == before_kept  # the other shopper keeps everything
    # Uploaded rows were renamed, not dropped: the next sync removes them from the platform.
    renamed = DestinationMember.objects.filter(person__startswith="x:")
    assert renamed.count() == 1 and renamed.get().hashes == {"em": "a" * 64}
    assert not AudienceChange.objects.filter(person__startswith="x:", status="pending").exists()
    assert AudienceMember.objects.filter(audience__slug="engagers", left_at__isnull=True).count() == engagers_before - 1


def test_a_signed_in_person_stays_a_member_without_the_erased_visitor_id(
        two_shoppers: tuple[Client, str, str, int]) -> None:
    _client, _gone, _kept, user_id = two_shoppers
    signed = SIGNED[0]
    result = erase_visitors([signed])
    assert holding(signed) == {}
    assert result.rows["visitor links"] == 1 and result.rows["events"] == 5
    # The account is not the browser: its memberships stay, and its uploads are not renamed.
    assert AudienceMember.objects.filter(person=f"u:{user_id}", left_at__isnull=True, visitor_id="").count() == 2  # engagers, buyers
    assert DestinationMember.objects.filter(person=f"u:{user_id}").exists()


def test_the_next_sync_queues_the_removal_of_the_erased_upload(two_shoppers: tuple[Client, str, str, int]) -> None:
    from socialshop.audiences.sync import queue_changes

    client, gone, _kept, _user = two_shoppers
    erase_visitors([gone])
    token = DestinationMember.objects.get(person__startswith="x:").person
    queue_changes(Destination.objects.get())
    assert AudienceChange.objects.filter(person=token, op=ChangeOp.REMOVE, status="pending").count() == 1


def test_erasure_is_a_constant_number_of_statements(django_user_model: Any) -> None:
    def visitors(n: int) -> list[str]:
        made = [shop(browser()) for _ in range(n)]
        return made

    one, many = visitors(1), visitors(6)
    derive(one + many, user_id=django_user_model.objects.create_user(username="bo", password="x").pk)
    with CaptureQueriesContext(connection) as small:
        first = erase_visitors(one)
    with CaptureQueriesContext(connection) as large:
        second = erase_visitors(many)
    assert len(small.captured_queries) == len(large.captured_queries)
    assert first.rows["events"] == 4 and second.rows["events"] == 6 * 4 + 1
    assert Event.objects.exclude(visitor_id="").count() == 0


def test_erasure_that_fails_in_one_area_leaves_every_row(two_shoppers: tuple[Client, str, str, int]) -> None:
    from socialshop.privacy.erasure import visitor_erased

    _client, gone, _kept, _user = two_shoppers
    before = holding(gone)

    def broken(sender: object, visitor_ids: list[str], **kwargs: object) -> None:
        raise RuntimeError("disk full")

    visitor_erased.connect(broken, dispatch_uid="test.broken")
    try:
        with pytest.raises(RuntimeError):
            erase_visitors([gone])
    finally:
        visitor_erased.disconnect(dispatch_uid="test.broken")
    assert holding(gone) == before


@pytest.mark.parametrize("bad", ["", "has space", "x" * 41, "semi;colon", "%", 42, None, "a\n"])
def test_malformed_visitor_id_is_refused_and_nothing_is_erased(two_shoppers: tuple[Client, str, str, int], bad: Any) -> None:
    _client, gone, _kept, _user = two_shoppers
    before, anonymous = holding(gone), Event.objects.count()
    with pytest.raises(ErasureError, match="is not a visitor id"):
        erase_visitors([gone, bad])
    assert holding(gone) == before and Event.objects.count() == anonymous


def test_too_many_ids_in_one_request_are_refused() -> None:
    with pytest.raises(ErasureError, match=f"at most {MAX_IDS}"):
        erase_visitors([f"v{i:05d}" for i in range(MAX_IDS + 1)])


def test_command_erases_and_summarises(two_shoppers: tuple[Client, str, str, int]) -> None:
    _client, gone, kept, _user = two_shoppers
    out = StringIO()
    call_command("socialshop_erase_visitor", gone, stdout=out)
    assert out.getvalue().startswith("erased 1 visitor ids: ") and "4 events" in out.getvalue()
    assert holding(gone) == {} and holding(kept)


def test_command_refuses_a_bad_id_before_erasing_any(two_shoppers: tuple[Client, str, str, int]) -> None:
    _client, gone, _kept, _user = two_shoppers
    before = holding(gone)
    with pytest.raises(CommandError, match="nothing of that request was erased"):
        call_command("socialshop_erase_visitor", gone, "bad id", stdout=StringIO())
    with pytest.raises(CommandError, match="at least one visitor id"):
        call_command("socialshop_erase_visitor", stdout=StringIO())
    assert holding(gone) == before


@pytest.mark.django_db
def test_an_id_beginning_with_a_dash_goes_after_double_dash_and_the_error_without_says_so() -> None:
    dashed = "-r2xPrwDiBF40ObGxfAfoQ"  # token_urlsafe made such ids (1 in 64) before new_id() stopped it
    record_consent(dashed, ConsentState(analytics="granted", ads="granted"))
    with pytest.raises(CommandError, match="goes after '--'"):
        call_command("socialshop_erase_visitor", dashed, stdout=StringIO())
    assert ConsentRecord.objects.filter(visitor_id=dashed).exists()

    out = StringIO()
    call_command("socialshop_erase_visitor", "--", dashed, stdout=out)
    assert out.getvalue().startswith("erased 1 visitor ids: 1 consent")
    assert not ConsentRecord.objects.filter(visitor_id=dashed).exists()


def test_new_visitor_ids_never_begin_with_a_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    made = iter(["-leading-dash-00000000", "--two-dashes-000000000", "fine-id-with-dash-0000"])
    monkeypatch.setattr(consent.secrets, "token_urlsafe", lambda n: next(made))
    assert consent.new_id() == "fine-id-with-dash-0000"


def test_erase_choice_without_a_visitor_cookie_erases_nothing(two_shoppers: tuple[Client, str, str, int]) -> None:
    events = Event.objects.count()
    answer = Client().post("/socialshop/privacy/", {"choice": "erase"})
    assert answer.status_code == 302 and Event.objects.count() == events


@hsettings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cookie=st.text(st.characters(max_codepoint=255), max_size=60))  # a header carries latin-1 bytes
def test_any_cookie_on_the_erase_form_never_fails_and_never_touches_anyone_else(
        two_shoppers: tuple[Client, str, str, int], cookie: str) -> None:
    _client, gone, kept, _user = two_shoppers
    if cookie in (gone, kept):
        return
    events = Event.objects.count()
    client = Client()
    try:
        client.cookies["ss_vid"] = cookie
    except Exception:  # noqa: BLE001 - a value the cookie jar itself refuses never reaches us
        return
    answer = client.post("/socialshop/privacy/", {"choice": "erase"})
    assert answer.status_code == 302
    assert Event.objects.count() == events


def test_retention_drops_links_of_visitors_with_no_events_left(django_user_model: Any) -> None:
    now = timezone.now()
    old = now - timedelta(days=200)
    for visitor, at in (("oldonly-visitor-01", old), ("stillhere-visitor-2", old)):
        Event.objects.create(event_id=uuid.uuid4().hex, name="PageView", occurred_at=at, received_at=at,
                             visitor_id=visitor, user_id=7, may_share=True)
        VisitorLink.objects.create(visitor_id=visitor, person="u:7", user_id=7, linked_at=at)
    Event.objects.create(event_id=uuid.uuid4().hex, name="PageView", occurred_at=now, received_at=now,
                         visitor_id="stillhere-visitor-2", may_share=True)
    VisitorLink.objects.create(visitor_id="fresh-visitor-0003", person="u:8", user_id=8, linked_at=now)

    result = purge_old_events(days=180)

    assert result.complete and result.deleted == 2
    assert set(VisitorLink.objects.values_list("visitor_id", flat=True)) == {"stillhere-visitor-2", "fresh-visitor-0003"}
    assert holding("oldonly-visitor-01") == {}


def test_interest_and_value_fields_of_the_other_shopper_are_unchanged(two_shoppers: tuple[Client, str, str, int]) -> None:
    _client, gone, kept, _user = two_shoppers
    mine = sorted(Interest.objects.filter(visitor_id=kept).values_list("product_id", "purchased_at"))
    total = Event.objects.filter(visitor_id=kept).aggregate(models.Sum("value"))["value__sum"]
    erase_visitors([gone])
    assert sorted(Interest.objects.filter(visitor_id=kept).values_list("product_id", "purchased_at")) == mine
    assert Event.objects.filter(visitor_id=kept).aggregate(models.Sum("value"))["value__sum"] == total == Decimal("52")
    assert not ConsentRecord.objects.filter(visitor_id=gone).exists()
