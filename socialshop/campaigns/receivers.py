"""Signal receivers of campaigns, connected once from ``SocialshopConfig.ready()`` (never in models.py):
a visitor's or an account's erasure (privacy/erasure.py) removes the campaign rows of the person
``v:<visitor id>`` or ``u:<account>``.
"""
from __future__ import annotations

from django.db import connection

from socialshop.campaigns.models import Assignment, CampaignMember, IssuedCode, Suppression, Touch
from socialshop.privacy.erasure import account_erased, visitor_erased


def _erase_persons(persons: list[str]) -> dict[str, int]:
    """Delete the assignments, states, touches, issued codes and suppressions of ``persons``: one statement
    per table. A code already issued stays valid in the store's checkout; socialshop only forgets whom it
    was for."""
    marks = ", ".join(["%s"] * len(persons))
    out: dict[str, int] = {}
    with connection.cursor() as cursor:
        for label, model in (("campaign assignments", Assignment), ("campaign members", CampaignMember),
                             ("campaign touches", Touch), ("issued codes", IssuedCode), ("suppressions", Suppression)):
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)} WHERE person IN ({marks})", persons)
            out[label] = max(cursor.rowcount, 0)
    return out


def erase_visitors(sender: object, visitor_ids: list[str], **kwargs: object) -> dict[str, int]:
    """The campaign rows of the persons ``v:<id>``. Signed-in persons (``u:``) are the account's, not the visitor's."""
    return _erase_persons([f"v:{v}" for v in visitor_ids])


def erase_accounts(sender: object, user_ids: list[int], **kwargs: object) -> dict[str, int]:
    """The campaign rows of the persons ``u:<id>``."""
    return _erase_persons([f"u:{u}" for u in user_ids])


def connect() -> None:
    """Connect the receivers (called once from ``SocialshopConfig.ready()``)."""
    visitor_erased.connect(erase_visitors, dispatch_uid="socialshop.campaigns.erase_visitors")
    account_erased.connect(erase_accounts, dispatch_uid="socialshop.campaigns.erase_accounts")
