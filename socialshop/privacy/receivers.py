"""Signal receivers of privacy, connected once from ``SocialshopConfig.ready()`` (never in models.py):
deleting a user in the host store erases what socialshop holds about that account (privacy/erasure.py).
"""
from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models.signals import pre_delete

from socialshop.privacy.erasure import erase_accounts


def account_deleted(sender: type, instance: Any, **kwargs: object) -> None:
    """Before the host deletes a user: erase the account's rows while its events still name it (the
    delete itself would only blank ``Event.user``, leaving its browsers and hashes in the audiences)."""
    if isinstance(instance.pk, int):  # socialshop keeps accounts as whole numbers (Event.user, ``u:<id>``)
        erase_accounts([instance.pk])


def connect() -> None:
    """Connect the receivers (called once from ``SocialshopConfig.ready()``)."""
    pre_delete.connect(account_deleted, sender=get_user_model(), dispatch_uid="socialshop.privacy.account_deleted")
