"""The abandoned-cart email itself: checking an address before it reaches a header, the message with its
text and HTML parts (templates ``socialshop/email/cart_reminder.{txt,html}``), the RFC 8058 headers, and
the optional open pixel's token. Who gets which email, and when, is campaigns/email.py.
"""
from __future__ import annotations

from email.utils import formataddr
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from socialshop.campaigns.contacts import Cart, Contact
from socialshop.campaigns.landing import landing_url
from socialshop.campaigns.models import EMAIL, Campaign, IncentiveKind, IssuedCode, Variant
from socialshop.campaigns.unsubscribe import unsubscribe_path
from socialshop.catalog import ProductRecord
from socialshop.conf import app_settings
from socialshop.core.money import format_money

DEFAULT_SUBJECT = "You left something in your cart"
# Characters that could add a recipient or a header when an address reaches the To: line.
INJECTION = ("\r", "\n", "\0")
SEPARATORS = (",", ";", "<", ">", '"', "(", ")", "[", "]", "\\", " ")
OPEN_SALT = "socialshop.campaigns.open"


def open_token(send_id: int) -> str:
    """The open pixel's token: the ``EmailSend`` id, signed (a number and a signature, nothing personal)."""
    return signing.dumps(send_id, salt=OPEN_SALT)


def read_open_token(token: str) -> int | None:
    """The ``EmailSend`` id in an open pixel's token, or None for anything we did not sign."""
    try:
        value = signing.loads(str(token)[:200], salt=OPEN_SALT)
    except (signing.BadSignature, ValueError, TypeError, UnicodeError):
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class ReminderMessage(EmailMultiAlternatives):
    """An email whose header lines fold only past RFC 5322's 998 characters (Python folds at 78): RFC 8058
    wants ``List-Unsubscribe`` on one line, and some receivers do not unfold it."""

    def message(self) -> Any:
        msg = super().message()
        msg.policy = msg.policy.clone(max_line_length=998)
        return msg


def address_problem(contact: Contact) -> str:
    """Why ``contact`` must not reach a To: header ("" when it may): line breaks or NUL (header injection),
    separators that could add recipients, or not an email address at all."""
    if any(c in contact.email for c in INJECTION) or any(c in contact.name for c in INJECTION):
        return "a line break or NUL in the address or name (header injection)"
    if any(c in contact.email for c in SEPARATORS):
        return "a separator in the address that could add recipients"
    try:
        validate_email(contact.email)
    except ValidationError:
        return "not a valid email address"
    return ""


def incentive_text(campaign: Campaign) -> str:
    """The offer in words: "10% off your order", "$5.00 off your order", "free shipping"."""
    if campaign.incentive_kind == IncentiveKind.PERCENT:
        return f"{campaign.incentive_amount.normalize():f}% off your order"
    if campaign.incentive_kind == IncentiveKind.FIXED:
        return f"{format_money(campaign.incentive_amount, campaign.incentive_currency or None)} off your order"
    if campaign.incentive_kind == IncentiveKind.FREE_SHIPPING:
        return "free shipping"
    return ""


def _absolute(site: str, url: str) -> str:
    if url.startswith(("http://", "https://")):
        return url
    return f"{site}/{url.lstrip('/')}"


def build_message(campaign: Campaign, person: str, *, number: int, variant: Variant | None, contact: Contact,
                  lines: list[tuple[Any, ProductRecord]], cart: Cart, code: IssuedCode | None, site: str,
                  connection: Any = None, send_id: int | None = None,
                  picks: Sequence[ProductRecord] = ()) -> ReminderMessage:
    """The email: subject from the variant, text and HTML parts from ``socialshop/email/cart_reminder.{txt,html}``
    (override them in the store's templates), and the RFC 8058 one-click unsubscribe headers. ``send_id`` (the
    claimed ``EmailSend``) keys the open pixel when ``EMAIL_OPEN_PIXEL`` is on."""
    items = []
    for line, record in lines:
        price = record.effective_price(timezone.now()) or line.price
        currency = record.currency or None
        items.append({
            "title": record.title, "quantity": line.quantity, "url": _absolute(site, record.url) if record.url else "",
            "image": _absolute(site, record.image_urls[0]) if record.image_urls else "",
            "price": format_money(price, currency), "total": format_money(price * line.quantity, currency) if price is not None else "",
        })
    # The person's picks (campaigns/picks.py) not already in the cart, each through the campaign's landing link.
    picked = [{
        "title": record.title, "price": format_money(record.effective_price(timezone.now()), record.currency or None),
        "image": _absolute(site, record.image_urls[0]) if record.image_urls else "",
        "url": _absolute(site, landing_url(campaign, person=person, next_path=urlsplit(record.url).path or "/", channel=EMAIL)),
    } for record in picks]
    unsubscribe = _absolute(site, unsubscribe_path(person, campaign))
    context = {
        "campaign": campaign, "variant": variant, "number": number, "name": contact.name, "items": items, "picks": picked, "site": site,
        "cart_url": _absolute(site, landing_url(campaign, person=person, next_path=cart.restore_path, channel=EMAIL)),
        "code": code.code if code else "", "code_expires_at": code.expires_at if code else None,
        "incentive": incentive_text(campaign) if code else "", "unsubscribe_url": unsubscribe,
        # An optional 1x1 image that records the first open (EMAIL_OPEN_PIXEL); many clients block or prefetch it.
        "open_pixel": _absolute(site, reverse("socialshop:email-open", args=[open_token(send_id)]))
        if send_id is not None and app_settings.EMAIL_OPEN_PIXEL else "",
    }
    subject = (variant.subject if variant and variant.subject else DEFAULT_SUBJECT)
    message = ReminderMessage(
        subject=subject, body=render_to_string("socialshop/email/cart_reminder.txt", context),
        from_email=app_settings.EMAIL_FROM or None, to=[formataddr((contact.name, contact.email))], connection=connection,
        # RFC 8058: an https URL the mail provider POSTs "List-Unsubscribe=One-Click" to; each header on one line.
        headers={"List-Unsubscribe": f"<{unsubscribe}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
    )
    message.attach_alternative(render_to_string("socialshop/email/cart_reminder.html", context), "text/html")
    return message
