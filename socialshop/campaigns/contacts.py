"""The host's contact adapter (CONTRACT "Host adapters for campaigns"): a person's email address, their
marketing consent and their cart, read when an email is sent and never stored in socialshop's tables.

``SOCIALSHOP["CONTACT_ADAPTER"]`` names a ``ContactAdapter`` subclass. Sending is campaigns/email.py.
"""
from __future__ import annotations

import abc
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import connection

from socialshop.audiences.rules import person_sql
from socialshop.core.adapters import load_host_adapter

# How far before the qualifying action AddToCart events still count as the cart (the default ``carts``).
CART_WINDOW = timedelta(days=7)
NO_ADAPTER = ("No contact adapter: SOCIALSHOP['CONTACT_ADAPTER'] is empty, so campaigns send no email. "
              "Point it at your store's ContactAdapter subclass (docs/campaigns.md, 'Email').")


@dataclass(frozen=True, slots=True)
class Contact:
    """Where to write to a person now: ``email`` and the ``name`` to greet (both from the store, never kept),
    and whether the person agreed to marketing email (``consent``; True where the store needs no consent)."""

    email: str
    name: str = ""
    consent: bool = True


@dataclass(frozen=True, slots=True)
class CartLine:
    """One line of a person's cart: the catalog id (as in the feeds), the quantity and the unit price when known."""

    catalog_id: str
    quantity: int = 1
    price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Cart:
    """A person's current cart and the store path (or absolute URL) that restores it in any browser."""

    lines: tuple[CartLine, ...]
    restore_path: str = "/"


class ContactAdapter(abc.ABC):
    """The host store's customers. Subclass it, then set ``SOCIALSHOP["CONTACT_ADAPTER"]`` to its dotted path.

    Hooks take a batch of person keys (``u:<account id>``, ``h:<hashed email>``, ``v:<visitor id>``,
    ``l:<list row>``) so a store can answer in one query per batch; a person it cannot reach is left out.
    """

    @abc.abstractmethod
    def contacts(self, persons: Sequence[str]) -> dict[str, Contact]:
        """{person: Contact} for the persons the store can write to now (usually only ``u:`` keys: an account's
        current address). Leave out anyone without an address; set ``consent=False`` for a person who has not
        agreed to marketing email where the store requires that."""

    def carts(self, persons: dict[str, datetime]) -> dict[str, Cart]:
        """{person: Cart} for ``persons`` ({person: their qualifying action}).

        Default: the cart socialshop saw, from each person's AddToCart events (any of their devices) since
        their last purchase and at most ``CART_WINDOW`` (7 days) before the action, quantities summed, the latest price
        kept; ``restore_path`` from ``restore_path()``. Override it when the store keeps carts itself.
        """
        if not persons:
            return {}
        since = min(persons.values()) - CART_WINDOW
        rows = events_of(list(persons), names=("AddToCart", "Purchase"), since=since)
        quantities: dict[str, dict[str, int]] = {p: {} for p in persons}
        prices: dict[str, dict[str, Decimal]] = {p: {} for p in persons}
        for person, name, at, contents, ids in rows:  # ordered by time: a purchase empties the cart seen so far
            if at < persons[person] - CART_WINDOW:
                continue
            if name == "Purchase":
                quantities[person], prices[person] = {}, {}
                continue
            for line in _lines(contents, ids):
                quantities[person][line.catalog_id] = quantities[person].get(line.catalog_id, 0) + line.quantity
                if line.price is not None:
                    prices[person][line.catalog_id] = line.price
        carts = {}
        for person, cart in quantities.items():
            lines = tuple(CartLine(catalog_id=cid, quantity=min(n, 99), price=prices[person].get(cid)) for cid, n in cart.items())
            carts[person] = Cart(lines=lines, restore_path=self.restore_path(person, lines))
        return carts

    def restore_path(self, person: str, lines: Sequence[CartLine]) -> str:
        """The store page the email's cart link lands on. Default: "/" (override with a page that puts
        ``lines`` back in the visitor's cart, as the demo store's ``/cart/restore/`` does)."""
        return "/"


def _lines(contents: Any, ids: Any) -> list[CartLine]:
    """Cart lines from an event's ``contents`` ([{id, quantity, item_price}]), else its ``content_ids``."""
    contents = json.loads(contents) if isinstance(contents, str) else contents
    ids = json.loads(ids) if isinstance(ids, str) else ids
    lines = []
    for item in contents or []:
        if not isinstance(item, dict) or not item.get("id"):
            continue
        try:
            quantity = max(int(item.get("quantity") or 1), 1)
            price = Decimal(str(item["item_price"])) if item.get("item_price") is not None else None
        except (TypeError, ValueError, InvalidOperation):
            quantity, price = 1, None
        lines.append(CartLine(catalog_id=str(item["id"]), quantity=quantity, price=price))
    if not lines:
        lines = [CartLine(catalog_id=str(i)) for i in ids or [] if i]
    return lines


def events_of(persons: Sequence[str], *, names: Iterable[str], since: datetime) -> list[tuple[str, str, datetime, Any, Any]]:
    """(person, name, occurred_at, contents, content_ids) of the persons' events named ``names`` since ``since``,
    on any of their devices (their visitor links), oldest first: one query for the whole batch."""
    from socialshop.campaigns.targeting import _aware, _db

    source, person, _user = person_sql()
    users = [int(p[2:]) for p in persons if p.startswith("u:") and p[2:].isdigit()]
    visitors = [p[2:] for p in persons if p.startswith("v:")]
    keys = list(persons)
    names = list(names)
    where = [f"l.person IN ({', '.join(['%s'] * len(keys))})"]
    params: list[Any] = [*keys]
    if users:
        where.append(f"e.user_id IN ({', '.join(['%s'] * len(users))})")
        params += users
    if visitors:
        where.append(f"e.visitor_id IN ({', '.join(['%s'] * len(visitors))})")
        params += visitors
    sql = (f"SELECT {person}, e.name, e.occurred_at, e.contents, e.content_ids FROM {source} "
           f"WHERE e.name IN ({', '.join(['%s'] * len(names))}) AND e.occurred_at >= %s AND ({' OR '.join(where)}) "
           f"ORDER BY e.occurred_at, e.id")
    wanted = set(keys)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*names, _db(since), *params])
        return [(p, n, _aware(at), c, i) for p, n, at, c, i in cursor.fetchall() if p in wanted]


def load_contact_adapter() -> ContactAdapter | None:
    """The configured adapter, or None when ``CONTACT_ADAPTER`` is empty. ``ConfigurationError`` names a bad path."""
    return load_host_adapter("CONTACT_ADAPTER", ContactAdapter)
