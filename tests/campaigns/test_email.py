"""Abandoned-cart emails end to end through the demo store's contact adapter and Django's locmem backend:
who gets which reminder when, what is skipped and why, the message itself (parts, links, code, headers
in the raw bytes), header injection, a campaign ending mid-run, and constant queries per batch."""
from __future__ import annotations

import itertools
import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from shop_demo.store.models import Order, ProductImage
from socialshop.audiences.models import Audience
from socialshop.campaigns.assignment import Split, assign
from socialshop.campaigns.email import MAX_ATTEMPTS, send_cart_reminders
from socialshop.campaigns.models import Campaign, CampaignStatus, EmailSend, EmailSendStatus, Suppression, Touch
from socialshop.campaigns.targeting import refresh_campaign
from tests.campaigns.conftest import H, MIN, NOW, event, join, make_audience, make_campaign, with_incentive
from tests.factories import UserFactory, VariantFactory

pytestmark = pytest.mark.django_db
_seq = itertools.count(1)


def customer(audience: Audience, *, at: Any = None, ordered: bool = True, email: str = "", name: str = "Ada",
             sku_stock: int = 5, price: str = "20.00", campaign: Campaign | None = None, holdout: bool | None = False) -> tuple[Any, Any]:
    """A signed-in customer who left a variant in the cart at ``at`` (default 2 h ago): (user, variant).

    With ``campaign``, a customer whose assignment is (``holdout``) or is not the hold-out is drawn.
    """
    at = at or NOW - 2 * H
    while True:
        n = next(_seq)
        user = UserFactory(username=f"mail{n}", email=email or f"mail{n}@example.com", first_name=name)
        if campaign is None or holdout is None or (assign(Split.of(campaign), f"u:{user.pk}")[1] is None) == holdout:
            break
    if ordered:
        Order.objects.create(number=f"E{n:06d}", user=user, email=user.email, first_name=name, last_name="L",
                             address="1 Row", city="Town", postcode="1", status=Order.Status.PAID)
    variant = VariantFactory(product__price=Decimal(price), stock=sku_stock)
    event("AddToCart", "", at=at, user_id=user.pk, content_ids=[variant.sku],
          contents=[{"id": variant.sku, "quantity": 2, "item_price": float(price)}])
    join(audience, f"u:{user.pk}", qualified_at=at)
    return user, variant


def run(campaign: Campaign, now: Any = NOW, **kwargs: Any):  # type: ignore[no-untyped-def]
    refresh_campaign(campaign, now=now)
    return send_cart_reminders(now=now, **kwargs)


def email_campaign(audience: Audience | None = None, **fields: Any) -> Campaign:
    values = {"channels": ["email"], "holdout_percent": 0, "email_per_day": 5, "max_age_hours": 168,
              "email_reminder_minutes": [60, 1440], **fields}
    return make_campaign(audience or make_audience(), **values)


def test_the_first_reminder_lists_the_cart_links_back_and_carries_one_click_unsubscribe_headers() -> None:
    campaign = email_campaign()
    user, variant = customer(campaign.audiences.get(), name="Ada")
    ProductImage.objects.create(product=variant.product, image="products/mail-test.jpg")
    result = run(campaign)
    assert (result.sent, result.failed) == (1, 0), result.summary()
    [message] = mail.outbox
    assert message.to == [f"Ada <{user.email}>"] and message.subject == "A: you left something"
    html = message.alternatives[0][0]
    assert variant.product.name in message.body and "$20.00" in message.body and "$40.00" in message.body
    assert 'src="http://testserver/media/products/mail-test.jpg"' in html
    link = re.search(r"Back to your cart: (\S+)", message.body).group(1)
    assert link.startswith(f"http://testserver/socialshop/c/{campaign.slug}/?") and "ch=email" in link
    assert "Your code" not in message.body  # the campaign offers no incentive
    raw = message.message().as_bytes()
    unsubscribe = re.search(rb"\nList-Unsubscribe: <(https?://[^>\r\n]+)>\r?\n", raw)
    assert unsubscribe is not None, raw[:800]  # the whole header on one line, not folded
    assert re.search(rb"\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r?\n", raw)
    url = unsubscribe.group(1).decode()
    assert url.startswith("http://testserver/socialshop/unsubscribe/") and url in message.body and url in html
    assert user.email.encode() not in url.encode()
    sent = EmailSend.objects.get(campaign=campaign)
    assert (sent.person, sent.number, sent.status) == (f"u:{user.pk}", 1, EmailSendStatus.SENT)
    assert Touch.objects.filter(campaign=campaign, person=f"u:{user.pk}", channel="email").count() == 1
    # No address in socialshop's tables.
    assert not EmailSend.objects.filter(person__contains="@").exists()


def test_the_code_comes_from_the_message_the_variant_says_with_its_expiry() -> None:
    campaign = with_incentive(email_campaign(), amount="10")
    campaign.variants.update(incentive_from_message=2)
    customer(campaign.audiences.get(), at=NOW - 25 * H)
    assert run(campaign, now=NOW - 23 * H).sent == 1  # 2 h after the action: the first reminder, no code
    assert "Your code" not in mail.outbox[0].body
    assert run(campaign).sent == 1  # 24 h after the first: the second, with the code
    body = mail.outbox[1].body
    code = re.search(r"Your code for 10% off your order: ([A-Z2-9-]{14})", body)
    assert code is not None, body
    assert "Valid until" in body and code.group(1) in mail.outbox[1].alternatives[0][0]
    assert EmailSend.objects.get(campaign=campaign, number=2).code == code.group(1)


def test_timing_edges_first_at_its_delay_second_only_after_its_gap_then_no_more() -> None:
    campaign = email_campaign(min_delay_minutes=60)
    audience = campaign.audiences.get()
    customer(audience, at=NOW - 60 * MIN)  # exactly at the first delay
    _late, _ = customer(audience, at=NOW - 60 * MIN + timedelta(seconds=1))  # one second too early
    assert run(campaign).sent == 1
    # The second reminder is due 24 h after the action, but also 23 h after the first email: not before.
    assert run(campaign, now=NOW + 23 * H - timedelta(seconds=1)).sent == 1  # only the late one's first
    assert run(campaign, now=NOW + 23 * H).sent == 1  # the first customer's second, exactly at its gap
    result = run(campaign, now=NOW + 47 * H)
    assert result.sent == 1 and result.skipped.get("all_sent") == 1  # the late one's second; then nothing more
    assert run(campaign, now=NOW + 100 * H).sent == 0
    assert len(mail.outbox) == 4


def test_a_first_email_sent_late_pushes_the_second_back_by_the_gap() -> None:
    campaign = email_campaign()
    customer(campaign.audiences.get(), at=NOW - 20 * H)  # beat was down: the first email goes out 20 h late
    assert run(campaign).sent == 1
    assert run(campaign, now=NOW + 4 * H).skipped.get("not_due") == 1  # 24 h after the action, only 4 h after
    assert run(campaign, now=NOW + 23 * H).sent == 1


def test_a_purchase_between_two_reminders_stops_the_second() -> None:
    campaign = email_campaign()
    user, variant = customer(campaign.audiences.get(), at=NOW - 2 * H)
    assert run(campaign).sent == 1
    event("Purchase", "", at=NOW + H, user_id=user.pk, order_id="o-1", value=Decimal("40"), content_ids=[variant.sku])
    # Even before a refresh marks the member converted, the send checks purchases itself.
    assert send_cart_reminders(now=NOW + 23 * H).skipped.get("purchased") == 1
    assert run(campaign, now=NOW + 23 * H).sent == 0
    assert len(mail.outbox) == 1


def test_the_daily_cap_counts_emails_across_two_campaigns() -> None:
    audience = make_audience()
    first = email_campaign(audience, email_per_day=1)
    second = email_campaign(audience, email_per_day=1)
    customer(audience)
    refresh_campaign(first, now=NOW)
    assert run(second).sent == 1  # one email today, whichever campaign sends it
    assert run(first, now=NOW + H).sent == 0
    assert run(first, now=NOW + 25 * H).sent == 1
    assert len(mail.outbox) == 2


def test_holdout_members_are_never_emailed() -> None:
    campaign = email_campaign(holdout_percent=50)
    audience = campaign.audiences.get()
    held = [customer(audience, campaign=campaign, holdout=True)[0] for _ in range(3)]
    reached = [customer(audience, campaign=campaign, holdout=False)[0] for _ in range(2)]
    assert run(campaign).sent == 2
    to = {m.to[0] for m in mail.outbox}
    assert to == {f"Ada <{u.email}>" for u in reached} and not to & {f"Ada <{u.email}>" for u in held}


def test_out_of_stock_and_deleted_products_are_left_out_and_an_empty_cart_gets_no_email() -> None:
    campaign = email_campaign()
    audience = campaign.audiences.get()
    mixed, kept = customer(audience)
    sold_out = VariantFactory(stock=0)
    event("AddToCart", "", at=NOW - 2 * H, user_id=mixed.pk, content_ids=[sold_out.sku],
          contents=[{"id": sold_out.sku, "quantity": 1, "item_price": 5}])
    customer(audience, sku_stock=0)  # only a sold-out item
    _gone, gone_variant = customer(audience)
    gone_variant.product.is_active = False  # taken off sale: no longer in the catalog
    gone_variant.product.save()
    result = run(campaign)
    assert result.sent == 1 and result.skipped == {"out_of_stock": 1, "product_deleted": 1}
    [message] = mail.outbox
    assert kept.product.name in message.body and sold_out.product.name not in message.body


def test_a_deleted_product_is_dropped_from_the_cart() -> None:
    campaign = email_campaign()
    user, kept = customer(campaign.audiences.get())
    removed = VariantFactory()
    event("AddToCart", "", at=NOW - 2 * H, user_id=user.pk, content_ids=[removed.sku],
          contents=[{"id": removed.sku, "quantity": 1, "item_price": 5}])
    name = removed.product.name
    removed.product.delete()
    assert run(campaign).sent == 1
    assert kept.product.name in mail.outbox[0].body and name not in mail.outbox[0].body


def test_unsubscribed_customers_without_consent_or_address_get_nothing() -> None:
    campaign = email_campaign()
    audience = campaign.audiences.get()
    gone, _ = customer(audience)
    Suppression.objects.create(person=f"u:{gone.pk}", channel="email", reason="test")
    customer(audience, ordered=False)  # never ordered: the demo store has no consent for marketing email
    join(audience, "v:anonymous-visitor-123", qualified_at=NOW - 2 * H)  # nobody to write to
    result = run(campaign)
    assert result.sent == 0 and result.skipped == {"no_consent": 1, "no_address": 1}
    assert mail.outbox == []


@pytest.mark.parametrize("email, name", [
    ("victim@example.com\r\nBcc: many@example.com", "Ada"),
    ("victim@example.com\nX-Injected: 1", "Ada"),
    ("victim@example.com", "Ada\r\nBcc: many@example.com"),
    ("victim@example.com, many@example.com", "Ada"),
    ("victim@example.com>, <many@example.com", "Ada"),
    ("not-an-address", "Ada"),
])
def test_an_address_or_name_that_could_inject_headers_is_refused_with_a_logged_reason(
        email: str, name: str, caplog: pytest.LogCaptureFixture) -> None:
    campaign = email_campaign()
    user, _ = customer(campaign.audiences.get(), email=email, name=name)
    result = run(campaign)
    assert result.sent == 0 and result.skipped == {"bad_address": 1}
    assert mail.outbox == [] and not EmailSend.objects.exists()
    assert f"no email to u:{user.pk}" in caplog.text and "many@example.com" not in caplog.text


def test_a_subject_with_a_line_break_fails_that_email_without_retrying_it() -> None:
    campaign = email_campaign()
    campaign.variants.update(subject="Hello\r\nBcc: many@example.com")
    customer(campaign.audiences.get())
    result = run(campaign)
    assert (result.sent, result.failed) == (0, 1) and mail.outbox == []
    row = EmailSend.objects.get()
    assert row.status == EmailSendStatus.FAILED and "refused header" in row.error and row.attempts == MAX_ATTEMPTS
    assert run(campaign, now=NOW + MIN).skipped.get("gave_up") == 1


def test_a_failed_send_is_marked_and_tried_again_next_run_once(settings: Any) -> None:
    campaign = email_campaign()
    customer(campaign.audiences.get())
    settings.EMAIL_BACKEND = "tests.campaigns.test_email.BrokenBackend"
    result = run(campaign)
    assert (result.sent, result.failed) == (0, 1)
    row = EmailSend.objects.get()
    assert row.status == EmailSendStatus.FAILED and "SMTP is down" in row.error and not Touch.objects.exists()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert run(campaign, now=NOW + 5 * MIN).sent == 1
    assert run(campaign, now=NOW + 10 * MIN).sent == 0
    row.refresh_from_db()
    assert (row.status, row.attempts, len(mail.outbox)) == (EmailSendStatus.SENT, 2, 1)


class BrokenBackend:
    """An email backend whose server is down."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def open(self) -> None:
        pass

    def close(self) -> None:
        pass

    def send_messages(self, messages: Any) -> int:
        raise ConnectionRefusedError("SMTP is down")


def test_a_campaign_that_ends_while_the_run_goes_on_stops_at_the_next_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    campaign = email_campaign()
    for _ in range(4):
        customer(campaign.audiences.get())
    from shop_demo.store.contacts import DemoContactAdapter

    original = DemoContactAdapter.contacts

    def contacts_then_end(self: Any, persons: Any) -> Any:
        Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.ENDED)  # the owner ends it meanwhile
        return original(self, persons)

    monkeypatch.setattr(DemoContactAdapter, "contacts", contacts_then_end)
    refresh_campaign(campaign, now=NOW)
    result = send_cart_reminders(now=NOW, batch_size=2)
    assert result.sent == 2 and result.stopped == (campaign.slug,) and result.skipped == {"campaign_stopped": 2}
    assert len(mail.outbox) == 2


def test_paused_and_non_email_campaigns_send_nothing() -> None:
    paused = email_campaign(status=CampaignStatus.PAUSED)
    customer(paused.audiences.get())
    ads_only = email_campaign(channels=["meta"])
    customer(ads_only.audiences.get())
    refresh_campaign(ads_only, now=NOW)
    assert run(paused).campaigns == () and mail.outbox == []


def test_queries_per_batch_do_not_grow_with_the_batch() -> None:
    campaign = email_campaign()
    audience = campaign.audiences.get()
    for _ in range(3):
        customer(audience)
    refresh_campaign(campaign, now=NOW)
    with CaptureQueriesContext(connection) as small:
        assert send_cart_reminders(now=NOW).sent == 3
    other = email_campaign(make_audience())
    for _ in range(9):
        customer(other.audiences.get())
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.PAUSED)
    refresh_campaign(other, now=NOW)
    with CaptureQueriesContext(connection) as large:
        assert send_cart_reminders(now=NOW).sent == 9
    assert len(large.captured_queries) == len(small.captured_queries), "\n".join(q["sql"][:150] for q in large.captured_queries)


def test_without_a_contact_adapter_nothing_is_sent_and_the_run_says_why(settings: Any) -> None:
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "CONTACT_ADAPTER": ""}
    campaign = email_campaign()
    customer(campaign.audiences.get())
    result = run(campaign)
    assert result.sent == 0 and "No contact adapter" in result.message and mail.outbox == []


def test_a_bad_contact_adapter_fails_the_check_naming_the_key(settings: Any) -> None:
    from django.core.checks import run_checks

    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "CONTACT_ADAPTER": "shop_demo.store.discounts.DemoDiscountAdapter"}
    errors = [e for e in run_checks() if e.id == "socialshop.E183"]
    assert errors and "CONTACT_ADAPTER" in errors[0].msg and "not a ContactAdapter" in errors[0].msg
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "CONTACT_ADAPTER": "nowhere.Missing"}
    assert any(e.id == "socialshop.E183" and "cannot be imported" in e.msg for e in run_checks())


def test_the_cart_link_restores_the_cart_in_a_new_browser(client: Any) -> None:
    campaign = email_campaign()
    _user, variant = customer(campaign.audiences.get())
    run(campaign)
    link = re.search(r"Back to your cart: (\S+)", mail.outbox[0].body).group(1).replace("http://testserver", "")
    response = client.get(link, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0].startswith("/cart/?") and "utm_campaign=" + campaign.slug in response.redirect_chain[-1][0]
    assert client.session["cart"] == {variant.sku: 2}
    forged = client.get("/cart/restore/?c=forged", follow=True)
    assert forged.status_code == 200 and "not valid" in forged.content.decode()


def test_the_command_prints_progress_and_a_summary(capsys: Any) -> None:
    from django.core.management import call_command

    campaign = email_campaign()
    customer(campaign.audiences.get())
    customer(campaign.audiences.get(), ordered=False)
    refresh_campaign(campaign, now=timezone.now())
    call_command("socialshop_send_cart_reminders")
    out = capsys.readouterr().out
    assert "1/2" in out or "2/2" in out
    assert "sent 1, failed 0, skipped 1 (no_consent 1)" in out and "no marketing consent" in out


def test_the_open_pixel_records_the_first_open_only_when_switched_on(settings: Any, client: Any) -> None:
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "EMAIL_OPEN_PIXEL": False}  # the default (the demo turns it on)
    campaign = email_campaign()
    audience = campaign.audiences.get()
    customer(audience)
    run(campaign)
    assert "/socialshop/e/o/" not in mail.outbox[0].alternatives[0][0]
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "EMAIL_OPEN_PIXEL": True}
    customer(audience)
    run(campaign, now=NOW + MIN)
    pixel = re.search(r'<img src="http://testserver(/socialshop/e/o/[^"]+\.gif)" width="1"', mail.outbox[1].alternatives[0][0])
    assert pixel is not None
    row = EmailSend.objects.order_by("pk").last()
    assert row.opened_at is None
    for _ in range(2):
        response = client.get(pixel.group(1))
        assert response.status_code == 200 and response["Content-Type"] == "image/gif" and response.content.startswith(b"GIF")
    row.refresh_from_db()
    first = row.opened_at
    assert first is not None and EmailSend.objects.filter(opened_at__isnull=False).count() == 1
    for forged in ("/socialshop/e/o/MTIz:forged.gif", "/socialshop/e/o/x.gif", "/socialshop/e/o/%00%ff.gif"):
        response = client.get(forged)
        assert response.status_code == 200 and response.content.startswith(b"GIF")
    assert EmailSend.objects.filter(opened_at__isnull=False).count() == 1


def test_admin_lists_each_email_with_its_status_and_last_error(admin_client: Any, settings: Any) -> None:
    campaign = email_campaign()
    customer(campaign.audiences.get())
    settings.EMAIL_BACKEND = "tests.campaigns.test_email.BrokenBackend"
    run(campaign)
    page = admin_client.get("/admin/socialshop/emailsend/?status=failed").content.decode()
    assert "ConnectionRefusedError: SMTP is down" in page and campaign.name in page


@pytest.mark.parametrize("value", [[1440, 60], ["60"], "60,1440", [60, -1], [True]])
def test_reminder_delays_must_be_a_rising_list_of_minutes(value: Any) -> None:
    from django.core.exceptions import ValidationError

    campaign = Campaign(name="x", slug="x", email_reminder_minutes=value)
    with pytest.raises(ValidationError) as error:
        campaign.clean()
    assert "email_reminder_minutes" in error.value.message_dict


def test_a_broken_reminder_setting_or_adapter_stops_that_campaign_not_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    audience = make_audience()
    broken = email_campaign(audience)
    fine = email_campaign(audience, email_per_day=5)
    Campaign.objects.filter(pk=broken.pk).update(email_reminder_minutes="60,1440")  # written around clean()
    customer(audience)
    refresh_campaign(broken, now=NOW)
    result = run(fine)
    assert result.sent == 1 and result.stopped == (broken.slug,) and result.campaigns == (fine.slug,)
    from shop_demo.store.contacts import DemoContactAdapter

    def failing(self: Any, persons: Any) -> Any:
        raise RuntimeError("the store's database is down")

    monkeypatch.setattr(DemoContactAdapter, "contacts", failing)
    customer(audience)
    result = run(fine, now=NOW + MIN)
    assert result.sent == 0 and result.skipped == {"adapter_error": 1, "not_due": 1}  # nothing claimed, tried next run
    assert EmailSend.objects.count() == 1


def test_the_api_sets_reminder_delays_and_refuses_a_bad_list() -> None:
    from tests.api.conftest import basic_client, make_user

    make_user("mailroot", superuser=True)
    client = basic_client("mailroot")
    campaign = email_campaign()
    url = f"/socialshop/api/campaigns/{campaign.pk}/"
    bad = client.patch(url, {"email_reminder_minutes": [1440, 60]}, format="json")
    assert bad.status_code == 400 and "email_reminder_minutes" in bad.json()
    good = client.patch(url, {"email_reminder_minutes": [30, 120, 2880]}, format="json")
    assert good.status_code == 200 and good.json()["email_reminder_minutes"] == [30, 120, 2880]


def test_the_email_shows_the_persons_picks_that_are_for_sale_and_not_in_the_cart() -> None:
    from socialshop.campaigns.models import MemberPick, PickReason

    campaign = email_campaign()
    user, variant = customer(campaign.audiences.get())
    other, sold_out = VariantFactory(stock=4), VariantFactory(stock=0)
    refresh_campaign(campaign, now=NOW)
    MemberPick.objects.filter(campaign=campaign).delete()
    MemberPick.objects.bulk_create([
        MemberPick(campaign=campaign, person=f"u:{user.pk}", rank=rank, product_id=sku, reason=PickReason.VIEWED, created_at=NOW)
        for rank, sku in enumerate([variant.sku, sold_out.sku, other.sku, "no-such-product"], start=1)])
    assert send_cart_reminders(now=NOW).sent == 1
    [message] = mail.outbox
    picked = message.body.split("Picked for you:", 1)[1].split("--", 1)[0]
    assert other.product.name in picked and sold_out.product.name not in picked and variant.product.name not in picked
    assert f"/socialshop/c/{campaign.slug}/?" in picked  # through the campaign's landing link: counted as a click
    assert "data-picks" in message.alternatives[0][0]
