"""The catalog contract: ``ProductRecord`` (one offer as the platforms see it) and ``Catalog``.

The generic Django-model adapter is ``catalog/model_catalog.py``; loading the configured one is
``catalog/__init__.py``.
"""
from __future__ import annotations

import abc
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from django.core.checks import CheckMessage


class Availability:
    """Our availability values (Google's spelling); platform modules translate them."""

    IN_STOCK = "in_stock"
    OUT_OF_STOCK = "out_of_stock"
    PREORDER = "preorder"
    BACKORDER = "backorder"
    ALL = (IN_STOCK, OUT_OF_STOCK, PREORDER, BACKORDER)


class ProductRecord(NamedTuple):
    """One offer: a product without variants, or one variant of a product.

    ``id`` is the catalog id used everywhere (feeds, tag ``content_ids``, picks). ``item_group_id``
    is shared by the variants of one product and empty for a product without variants.

    Immutable and built by keyword like a frozen dataclass; a named tuple because a feed build
    makes hundreds of thousands of them and a tuple is built ten times faster. Derive one with
    ``record._replace(field=value)``.
    """

    id: str
    title: str
    url: str
    price: Decimal | None
    currency: str
    item_group_id: str = ""
    description: str = ""
    image_urls: tuple[str, ...] = ()
    sale_price: Decimal | None = None
    sale_starts_at: datetime | None = None
    sale_ends_at: datetime | None = None
    availability: str = Availability.IN_STOCK
    quantity: int | None = None
    condition: str = "new"
    brand: str = ""
    gtin: str = ""
    mpn: str = ""
    category_path: tuple[str, ...] = ()
    google_product_category: str = ""
    color: str = ""
    size: str = ""
    gender: str = ""
    age_group: str = ""
    material: str = ""
    pattern: str = ""
    created_at: datetime | None = None
    extra: tuple[tuple[str, str], ...] = ()

    @property
    def is_variant(self) -> bool:
        return bool(self.item_group_id) and self.item_group_id != self.id

    def effective_price(self, at: datetime | None = None) -> Decimal | None:
        """The sale price when a sale runs at ``at`` (or has no dates), else the regular price."""
        if self.sale_price is None:
            return self.price
        if at is not None:
            if self.sale_starts_at and at < self.sale_starts_at:
                return self.price
            if self.sale_ends_at and at >= self.sale_ends_at:
                return self.price
        return self.sale_price


class Catalog(abc.ABC):
    """Reads the host store's products. Subclass it, or configure ``ModelCatalog`` with settings.

    A catalog is built once per use with the ``CATALOG_OPTIONS`` keyword arguments.
    """

    #: records per chunk when iterating; each chunk costs a constant number of queries.
    chunk_size: int = 1000

    @classmethod
    def check_options(cls, options: dict[str, Any]) -> list[CheckMessage]:
        """System-check messages for this class's ``CATALOG_OPTIONS`` (run by ``manage.py check``).

        Input: the ``CATALOG_OPTIONS`` dict, before any catalog is built. Output: Django check
        messages (``Error``/``Warning``) that name the full key, e.g.
        ``SOCIALSHOP['CATALOG_OPTIONS']['region']``, and the bad value. The default accepts
        anything; a custom catalog overrides it to validate the options it declares. That the
        options fit ``__init__``'s keyword arguments is already checked for every class.
        """
        return []

    @abc.abstractmethod
    def iter_chunks(self, *, chunk_size: int | None = None, after: str | None = None) -> Iterator[list[ProductRecord]]:
        """Yield every record of the catalog in lists of at most ``chunk_size``.

        Input: ``after``, a resume point (an opaque cursor from ``cursor_of``) or None.
        Output: lists of ``ProductRecord`` in a stable order. Raises ``CatalogError`` when the
        store cannot be read.
        """

    @abc.abstractmethod
    def get_records(self, ids: Sequence[str]) -> dict[str, ProductRecord]:
        """Fetch records by catalog id.

        Input: catalog ids. Output: a dict id -> record holding the ids that exist; unknown
        ids are left out, never an error.
        """

    @abc.abstractmethod
    def ids_for(self, obj: Any) -> list[str]:
        """Catalog ids for a host object placed in a template (a product or one variant).

        Input: a host model instance. Output: the ids that the feeds use for it (a product with
        variants gives its variants' ids). Raises ``CatalogError`` for an object of another type.
        """

    def group_id_for(self, obj: Any) -> str:
        """The ``item_group_id`` for a host object; the object's own id when it has no variants."""
        ids = self.ids_for(obj)
        records = self.get_records(ids[:1])
        record = records.get(ids[0]) if ids else None
        return (record.item_group_id or record.id) if record else (ids[0] if ids else "")

    def iter_records(self, *, chunk_size: int | None = None) -> Iterator[ProductRecord]:
        """Every record, one at a time (chunks underneath)."""
        for chunk in self.iter_chunks(chunk_size=chunk_size):
            yield from chunk

    def count(self) -> int:
        """How many records the catalog has; subclasses may answer faster."""
        return sum(len(chunk) for chunk in self.iter_chunks())

    def search(self, query: str, *, limit: int = 20) -> list[ProductRecord]:
        """Records whose title contains ``query`` (for admin pickers); subclasses may do better."""
        needle = query.casefold()
        found: list[ProductRecord] = []
        for record in self.iter_records():
            if needle in record.title.casefold() or needle == record.id.casefold():
                found.append(record)
                if len(found) >= limit:
                    break
        return found


def records_by_id(records: Iterable[ProductRecord]) -> dict[str, ProductRecord]:
    """Index records by their catalog id."""
    return {record.id: record for record in records}
