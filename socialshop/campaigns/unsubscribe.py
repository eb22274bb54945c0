"""Unsubscribe tokens and the unsubscribe itself: the signed token in every email's link and
``List-Unsubscribe`` header, and the email ``Suppression`` it writes. The pages are campaigns/views.py.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from django.core import signing
from django.db import IntegrityError
from django.urls import reverse

from socialshop.campaigns.models import EMAIL, Campaign, Suppression
from socialshop.core.db import writing

logger = logging.getLogger(__name__)

SALT = "socialshop.campaigns.unsubscribe"
MAX_TOKEN = 512  # longer input is not a token of ours (kept short so a forged one costs nothing to refuse)


class BadToken(ValueError):
    """An unsubscribe token that is malformed, forged or names nothing we know."""


@dataclass(frozen=True, slots=True)
class Recipient:
    """Whom a token unsubscribes: socialshop's person key and the campaign the email came from (if it still exists)."""

    person: str
    campaign: Campaign | None


def make_token(person: str, campaign: Campaign) -> str:
    """An opaque token for ``person`` and ``campaign``: signed with SECRET_KEY (django.core.signing), compressed,
    holding socialshop's person key (an account number or a hash, never an address) and the campaign id."""
    return signing.dumps([person, campaign.pk], salt=SALT, compress=True)


def unsubscribe_path(person: str, campaign: Campaign) -> str:
    """``/socialshop/unsubscribe/<token>/`` for ``person`` (a path; emails make it absolute with SITE_URL)."""
    return reverse("socialshop:unsubscribe", args=[make_token(person, campaign)])


def read_token(token: str) -> Recipient:
    """Whom ``token`` unsubscribes; ``BadToken`` with the reason when it is not one of ours."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN:
        raise BadToken("this is not an unsubscribe link of this store")
    try:
        value = signing.loads(token, salt=SALT)
    except (signing.BadSignature, ValueError, TypeError, UnicodeError):
        raise BadToken("this unsubscribe link is damaged or was not made by this store") from None
    if not (isinstance(value, list) and len(value) == 2 and isinstance(value[0], str) and isinstance(value[1], int)
            and 0 < len(value[0]) <= 80):
        raise BadToken("this unsubscribe link is damaged or was not made by this store")
    return Recipient(person=value[0], campaign=Campaign.objects.filter(pk=value[1]).first())


def is_unsubscribed(person: str) -> bool:
    """True when ``person`` no longer gets email from any campaign."""
    return Suppression.objects.filter(person=person, channel=EMAIL).exists()


def unsubscribe(recipient: Recipient, *, how: str) -> bool:
    """Stop every campaign email to the recipient (a ``Suppression`` on "email"); True when it is new.

    ``how`` is kept as the reason ("one-click", "unsubscribe page"), with the campaign's name. Idempotent.
    """
    campaign = f" from campaign {recipient.campaign.slug}" if recipient.campaign else ""
    reason = f"{how} unsubscribe{campaign}"[:200]
    try:
        with writing():
            _, created = Suppression.objects.get_or_create(person=recipient.person, channel=EMAIL, defaults={"reason": reason})
    except IntegrityError:  # two clicks at once: the other one wrote it
        created = False
    if created:
        logger.info("unsubscribed a person from campaign email (%s)", reason)
    return created
