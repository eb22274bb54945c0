"""Right to erasure: remove every row in socialshop's tables that holds a visitor id, or an account, set-based.

Privacy owns the request and the consent record; the tables above it (events and interest in
tracking, links, memberships and uploads in audiences, campaign rows) remove their own rows in
receivers of ``visitor_erased`` and ``account_erased``, connected from their ``receivers.py``
(imports point down only). Everything runs in one transaction: an error in any area leaves every
row as it was. Docs: docs/privacy.md, "Erasure".
"""
from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.dispatch import Signal

from socialshop.core.db import writing
from socialshop.exceptions import SocialshopError
from socialshop.privacy.models import ConsentRecord

logger = logging.getLogger(__name__)

# Sent inside erase_visitors' transaction with ``visitor_ids`` (a list of str). Each receiver deletes
# or blanks its area's rows for all of them in a constant number of statements and returns
# {table label: rows changed}. Receivers: tracking/receivers.py, audiences/receivers.py,
# campaigns/receivers.py.
visitor_erased = Signal()
# Sent by erase_accounts with ``user_ids`` (a list of int) before anything is removed: each receiver
# returns the visitor ids its area saw carrying those accounts (events, visitor links).
account_visitors = Signal()
# Sent by erase_accounts with ``user_ids`` after the accounts' visitors were erased: each receiver
# removes its rows keyed by the accounts (``u:<id>`` persons, events without a visitor id) and
# returns {table label: rows changed}, as for ``visitor_erased``.
account_erased = Signal()

# The same shape as the visitor cookie (privacy/consent.py ID_RE); anything else is not an id we made.
VISITOR_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,40}")
# An account id as erase_accounts takes it: a user's integer primary key, as a number or its decimal digits.
ACCOUNT_ID_RE = re.compile(r"[0-9]{1,19}")
# One request's ids: the statements bind each id up to three times, within SQLite's 32,766 parameters.
MAX_IDS = 1_000


class ErasureError(SocialshopError, ValueError):
    """An erasure request that cannot be carried out as given (the message names the bad value)."""


@dataclass(frozen=True, slots=True)
class ErasureResult:
    """What one erasure removed: rows per table label (``{"events": 12, ...}``) and the visitor count."""

    visitors: int
    rows: dict[str, int]

    @property
    def total(self) -> int:
        """Rows removed or blanked in all tables."""
        return sum(self.rows.values())


def clean_visitor_ids(visitor_ids: Iterable[object]) -> list[str]:
    """The distinct, well-formed visitor ids of ``visitor_ids``; raises ``ErasureError`` naming the first bad one.

    An empty id is refused: it is what anonymous events hold, and erasing it would delete them all.
    """
    cleaned: list[str] = []
    for value in visitor_ids:
        if not isinstance(value, str) or not VISITOR_ID_RE.fullmatch(value):
            raise ErasureError(f"visitor id {value!r} is not a visitor id (1-40 letters, digits, '-' or '_')")
        if value not in cleaned:
            cleaned.append(value)
    if len(cleaned) > MAX_IDS:
        raise ErasureError(f"{len(cleaned)} visitor ids in one erasure: send at most {MAX_IDS} at a time")
    return cleaned


def _tally(rows: dict[str, int], answer: dict[str, int] | None) -> None:
    """Add one area's {table label: rows changed} to ``rows``."""
    for label, count in (answer or {}).items():
        rows[label] = rows.get(label, 0) + int(count)


def erase_visitors(visitor_ids: Iterable[object]) -> ErasureResult:
    """Remove everything socialshop holds under each visitor id, in one transaction; returns what went.

    Removes the consent record here and, through ``visitor_erased``, their events and deliveries,
    interest rows, visitor links, audience rows keyed by the visitor (``v:<id>``) and campaign rows of
    that person; rows of a signed-in person (``u:``) or a hashed e-mail (``h:``) lose the visitor id
    but stay, since they belong to the account, not the browser. A platform list that holds the
    visitor's hashes gets a removal at the next sync (audiences/receivers.py). Raises ``ErasureError``
    for a malformed id (nothing is removed then).
    """
    ids = clean_visitor_ids(visitor_ids)
    rows: dict[str, int] = {}
    if not ids:
        return ErasureResult(visitors=0, rows=rows)
    with writing():
        for _receiver, answer in visitor_erased.send(sender=ErasureResult, visitor_ids=ids):
            _tally(rows, answer)
        deleted, _ = ConsentRecord.objects.filter(visitor_id__in=ids).delete()
        rows["consent records"] = deleted
    logger.info("erased %d visitors: %d rows", len(ids), sum(rows.values()))  # counts only, never the ids
    return ErasureResult(visitors=len(ids), rows=rows)


def erase_accounts(user_ids: Iterable[object]) -> ErasureResult:
    """Remove everything socialshop holds about each account (a primary key of the user model) in one
    transaction; returns what went.

    An account's data is also its browsers': every visitor id seen carrying the account (its consent
    records, events and visitor links) is erased as by ``erase_visitors``, then the rows keyed by the
    account itself (its ``u:<id>`` memberships, stored hashes and campaign rows, events without a
    visitor id) go, and what was uploaded for it is removed from the platforms' lists at the next sync.
    Runs by itself when the host deletes a user (``pre_delete``, privacy/receivers.py). Raises
    ``ErasureError`` for an id that is not a whole number (nothing is removed then).
    """
    wanted: dict[int, None] = {}  # in the order given, each once
    for value in user_ids:
        # ASCII digits only: str.isdigit() also takes "²" (which int() refuses) and "٣" (another account).
        if isinstance(value, bool) or not isinstance(value, (int, str)) or not ACCOUNT_ID_RE.fullmatch(str(value)):
            raise ErasureError(f"account id {value!r} is not a user's primary key (a whole number)")
        wanted[int(value)] = None
    ids = list(wanted)
    rows: dict[str, int] = {}
    if not ids:
        return ErasureResult(visitors=0, rows=rows)
    with writing():
        visitors = set(ConsentRecord.objects.filter(user_id__in=ids).values_list("visitor_id", flat=True))
        for _receiver, answer in account_visitors.send(sender=ErasureResult, user_ids=ids):
            visitors.update(answer or ())
        found = sorted(v for v in visitors if v and VISITOR_ID_RE.fullmatch(v))
        for start in range(0, len(found), MAX_IDS):
            _tally(rows, erase_visitors(found[start:start + MAX_IDS]).rows)
        for _receiver, answer in account_erased.send(sender=ErasureResult, user_ids=ids):
            _tally(rows, answer)
    logger.info("erased %d accounts and %d visitors: %d rows", len(ids), len(found), sum(rows.values()))
    return ErasureResult(visitors=len(found), rows=rows)
