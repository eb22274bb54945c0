"""Field paths of a ``ModelCatalog`` mapping: how each is read in bulk, and value conversions.

A path is Django's ``__`` syntax ("brand__name", "images__image") and may end in a property or
method ("get_absolute_url"). Plans decide whether a path is one column of the main query, rows of
a to-many relation, or an attribute that needs model instances. Used by ``model_catalog.py``.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.core.files.storage import FileSystemStorage
from django.db.models.fields.files import FieldFile
from django.utils.encoding import filepath_to_uri
from django.utils.functional import LazyObject, empty

from socialshop.catalog.base import Availability
from socialshop.conf import app_settings
from socialshop.exceptions import CatalogError

STR_FIELDS = (
    "id", "item_group_id", "title", "description", "url", "currency", "availability", "condition",
    "brand", "gtin", "mpn", "google_product_category", "color", "size", "gender", "age_group",
    "material", "pattern",
)
MAPPABLE_FIELDS = STR_FIELDS + (
    "image_urls", "price", "sale_price", "sale_starts_at", "sale_ends_at", "quantity",
    "category_path", "created_at",
)
REQUIRED_FIELDS = ("title", "price", "url")

LOCAL, MANY, ATTR, TEMPLATE, RELATED_ATTR = "local", "many", "attr", "template", "related_attr"
_UNQUOTED = re.compile(r"[A-Za-z0-9_.~/!*()'-]*")  # what filepath_to_uri leaves unchanged
TEMPLATE_FIELD = re.compile(r"{([A-Za-z_][A-Za-z0-9_]*)}")


@dataclass(frozen=True, slots=True)
class PathPlan:
    """How one mapped path is read.

    ``kind`` is LOCAL (a column of the main query, joins through foreign keys), MANY (rows through
    a to-many relation; ``ordering`` keeps the related model's order), ATTR (a property or method,
    read from a model instance) or RELATED_ATTR (a property or method of a model reached through
    foreign keys, e.g. ``section__trail``: ``relation`` is "section", ``attr`` "trail"; read from
    the related instances, fetched once per chunk). ``storage`` is set when the path ends in a file field.
    """

    path: str
    segments: tuple[str, ...]
    kind: str
    ordering: tuple[str, ...] = ()
    storage: Any = None
    params: tuple[str, ...] = ()  # TEMPLATE: the field paths its {placeholders} name
    related_model: Any = None  # RELATED_ATTR: the model that has the property or method

    @property
    def concrete(self) -> bool:
        """The path is a database column (it can be filtered, searched and looked up by)."""
        return self.kind not in (ATTR, RELATED_ATTR)

    @property
    def relation(self) -> str:
        """RELATED_ATTR: the foreign-key path to the related object ("section")."""
        return "__".join(self.segments[:-1])

    @property
    def attr(self) -> str:
        """ATTR/RELATED_ATTR: the property or method name."""
        return self.segments[-1]


def plan_path(model: type[models.Model], path: str) -> PathPlan:
    """Work out how to read ``path`` on ``model``; ``CatalogError`` names a part that is missing.

    A path with ``{placeholders}`` is a template ("/p/{slug}/"): each placeholder names a plain
    or foreign-key field path, so the value is built from columns, with no model instances.
    """
    if "{" in str(path):
        params = tuple(dict.fromkeys(TEMPLATE_FIELD.findall(path)))
        if not params or TEMPLATE_FIELD.sub("", path).count("{") or TEMPLATE_FIELD.sub("", path).count("}"):
            raise CatalogError(f"{path!r}: a template's placeholders are field paths in braces, e.g. '/p/{{slug}}/'")
        for param in params:
            if plan_path(model, param).kind != LOCAL:
                raise CatalogError(f"{path!r}: {{{param}}} must be a field or foreign-key path, not a method or to-many")
        return PathPlan(path=path, segments=(), kind=TEMPLATE, params=params)
    segments = tuple(str(path).split("__"))
    current: type[models.Model] | None = model
    kind = LOCAL
    ordering: list[str] = []
    storage = None
    for index, segment in enumerate(segments):
        if current is None:
            raise CatalogError(f"{path!r}: {segments[index - 1]!r} is not a relation, so {segment!r} cannot follow it")
        try:
            field = current._meta.get_field(segment)
        except FieldDoesNotExist:
            if index == len(segments) - 1 and hasattr(current, segment):
                if not index:
                    return PathPlan(path=path, segments=segments, kind=ATTR)
                if kind == MANY:
                    raise CatalogError(
                        f"{path!r}: a property or method ({segment!r}) can be read through foreign keys, not a to-many relation"
                    ) from None
                # Read in bulk: the related keys come with the rows, then one query per chunk for those objects.
                return PathPlan(path=path, segments=segments, kind=RELATED_ATTR, related_model=current)
            raise CatalogError(f"{current.__name__} has no field or attribute {segment!r} (in {path!r})") from None
        if field.is_relation:
            if field.many_to_many or field.one_to_many:
                if kind == MANY:
                    raise CatalogError(f"{path!r}: only one to-many relation may be followed")
                kind = MANY
                prefix = "__".join(segments[: index + 1])
                related_ordering = field.related_model._meta.ordering or []
                ordering = [f"{prefix}__{o.lstrip('-')}" if not o.startswith("-") else f"-{prefix}__{o[1:]}" for o in related_ordering]
                ordering.append(f"{prefix}__pk")
            current = field.related_model
            if index == len(segments) - 1:
                raise CatalogError(f"{path!r} ends at a relation; name a field of {current.__name__}")
        else:
            if isinstance(field, models.FileField):
                storage = field.storage
            current = None
    return PathPlan(path=path, segments=segments, kind=kind, ordering=tuple(ordering), storage=storage)


def to_decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, Decimal):
        return value
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def normalise_availability(value: Any) -> str:
    """Map a host's availability value (bool, enum, Meta or Google spelling) to ours ('' if unknown)."""
    if isinstance(value, bool):
        return Availability.IN_STOCK if value else Availability.OUT_OF_STOCK
    text = str(value or "").strip().lower().replace(" ", "_")
    aliases = {"available_for_order": Availability.BACKORDER, "discontinued": Availability.OUT_OF_STOCK}
    text = aliases.get(text, text)
    return text if text in Availability.ALL else ""


def file_url(value: Any, storage: Any = None) -> str:
    """A URL from a string, a stored file name (with its storage) or a file field value."""
    if isinstance(value, FieldFile):
        return value.url if value.name else ""
    if value is None or value == "":
        return ""
    if storage is None:
        return str(value)
    if type(storage) is FileSystemStorage:
        # The same URL FileSystemStorage.url builds, without a urljoin per image (hot in feed builds);
        # a name of characters that quoting keeps as they are skips the quoting.
        name = value if _UNQUOTED.fullmatch(value) else filepath_to_uri(value)
        return f"{_storage_base(storage)}{name.lstrip('/')}"
    return storage.url(value)


def _storage_base(storage: FileSystemStorage) -> str:
    base = storage.base_url or ""
    return base if base.endswith("/") else f"{base}/"


def absolute_url(url: str, site: str | None = None) -> str:
    """Prefix a site-relative URL with ``site`` (default ``SITE_URL``); absolute ones stay."""
    if not url or "://" in url:
        return url
    base = (str(app_settings.SITE_URL or "") if site is None else site).rstrip("/")
    return f"{base}/{url.lstrip('/')}" if base else url


def _to_str(value: Any) -> str:
    return "" if value is None else str(value)


def _to_datetime(value: Any) -> datetime | None:
    return value if isinstance(value, datetime) else None


def _to_int(value: Any) -> int | None:
    return None if value is None or value == "" else int(value)


def _to_path(value: Any) -> tuple[str, ...]:
    if isinstance(value, (list, tuple)):
        return tuple(str(v).strip() for v in value if str(v).strip())
    return tuple(part.strip() for part in str(value or "").split(">") if part.strip())


CONVERTERS: dict[str, Callable[[Any], Any]] = {
    **{name: _to_str for name in STR_FIELDS},
    "availability": normalise_availability,
    "price": to_decimal,
    "sale_price": to_decimal,
    "sale_starts_at": _to_datetime,
    "sale_ends_at": _to_datetime,
    "created_at": _to_datetime,
    "quantity": _to_int,
    "category_path": _to_path,
}


def converter(name: str, plan: PathPlan) -> Callable[[Any], Any]:
    """The function that turns a raw value read through ``plan`` into ProductRecord.``name``."""
    storage = plan.storage
    if isinstance(storage, LazyObject):  # default_storage: resolve once, not per image
        if storage._wrapped is empty:
            storage._setup()
        storage = storage._wrapped
    if name == "image_urls":
        def images(value: Any) -> tuple[str, ...]:
            items = value if isinstance(value, (list, tuple)) else (value,)
            return tuple(u for u in (file_url(item, storage) for item in items) if u)
        return images
    base = (lambda value: file_url(value, storage)) if name == "url" else CONVERTERS[name]
    if plan.kind != MANY:
        return base
    return lambda value: base(value[0] if value else None)


def read_attr(obj: Any, name: str) -> Any:
    """Read a property, or call a method without arguments."""
    value = getattr(obj, name)
    return value() if callable(value) else value
