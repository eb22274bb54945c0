"""``ModelCatalog``: the generic adapter over any Django product model, configured by field mapping.

Field paths use Django's ``__`` syntax and may end in a property or method. Variants come from a
related model (``variants``) or from a group field mapped to ``item_group_id``. The contract it
fulfils is ``catalog/base.py``; its settings are validated in ``catalog/checks.py``.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models.fields.files import FieldFile

from socialshop.catalog.base import Availability, Catalog, ProductRecord
from socialshop.conf import app_settings
from socialshop.exceptions import CatalogError

# The ProductRecord attributes a mapping may fill, and how each value is converted.
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
DEFAULT_VARIANT_SEPARATOR = "-"


@dataclass(frozen=True, slots=True)
class PathPlan:
    """How to read one mapped path: ORM joins to ask for, and the attribute chain to follow."""

    segments: tuple[str, ...]
    select_related: str | None
    prefetch_related: str | None
    concrete: bool  # every segment is a model field, so the path can be used in a filter


def plan_path(model: type[models.Model], path: str) -> PathPlan:
    """Work out joins for ``path`` on ``model``; raises ``CatalogError`` naming a missing part."""
    segments = tuple(path.split("__"))
    current: type[models.Model] | None = model
    select: list[str] = []
    prefetch: list[str] = []
    concrete = True
    for index, segment in enumerate(segments):
        if current is None:
            raise CatalogError(f"{path!r}: {segments[index - 1]!r} is not a relation, so {segment!r} cannot follow it")
        try:
            field = current._meta.get_field(segment)
        except FieldDoesNotExist:
            if index == len(segments) - 1 and hasattr(current, segment):
                concrete = False  # a property or method on the model, read from the instance
                break
            raise CatalogError(f"{current.__name__} has no field or attribute {segment!r} (in {path!r})") from None
        if field.is_relation:
            if field.many_to_many or field.one_to_many:
                prefetch.append(segment)
            elif not prefetch:
                select.append(segment)
            else:
                prefetch.append(segment)
            current = field.related_model
        else:
            current = None
    return PathPlan(
        segments=segments,
        select_related="__".join(select) or None,
        prefetch_related="__".join((select + prefetch) if prefetch else []) or None,
        concrete=concrete,
    )


def read_path(obj: Any, segments: Sequence[str]) -> Any:
    """Follow ``segments`` from ``obj``; to-many relations give lists (from the prefetch cache)."""
    value = obj
    for index, segment in enumerate(segments):
        if value is None:
            return None
        if isinstance(value, list):
            out: list[Any] = []
            for item in value:
                got = read_path(item, segments[index:])
                out.extend(got if isinstance(got, list) else [got])
            return out
        value = getattr(value, segment)
        if isinstance(value, models.Manager):
            value = list(value.all())
        elif callable(value) and not isinstance(value, models.Model):
            value = value()
    return value


class ModelCatalog(Catalog):
    """A catalog over a Django model, configured entirely with ``CATALOG_OPTIONS``.

    ``model`` is "app_label.Model"; ``fields`` maps ProductRecord attribute names to paths;
    ``filter`` is a dict of lookups that selects sellable products; ``variants`` is
    ``{"related_name": ..., "fields": {...}}`` when variants live in a related model.
    """

    def __init__(
        self,
        *,
        model: str,
        fields: dict[str, str] | None = None,
        variants: dict[str, Any] | None = None,
        filter: dict[str, Any] | None = None,  # noqa: A002 - the option's public name
        chunk_size: int | None = None,
    ) -> None:
        try:
            self.model = apps.get_model(model)
        except (LookupError, ValueError) as exc:
            raise CatalogError(f"CATALOG_OPTIONS['model'] = {model!r}: {exc}") from None
        self.fields = dict(fields or {})
        self.filter = dict(filter or {})
        if chunk_size:
            self.chunk_size = int(chunk_size)
        self.plans = {name: plan_path(self.model, path) for name, path in self.fields.items()}
        self.variant_related = None
        self.variant_model: type[models.Model] | None = None
        self.variant_plans: dict[str, PathPlan] = {}
        if variants:
            related = variants.get("related_name", "variants")
            try:
                field = self.model._meta.get_field(related)
            except FieldDoesNotExist:
                raise CatalogError(f"{self.model.__name__} has no related name {related!r} for variants") from None
            self.variant_related = related
            self.variant_model = field.related_model
            self.variant_plans = {
                name: plan_path(self.variant_model, path) for name, path in (variants.get("fields") or {}).items()
            }

    # -- reading ------------------------------------------------------------------------------
    def _queryset(self) -> models.QuerySet:
        qs = self.model._default_manager.filter(**self.filter)
        selects = {p.select_related for p in self.plans.values() if p.select_related}
        prefetches = {p.prefetch_related for p in self.plans.values() if p.prefetch_related}
        if selects:
            qs = qs.select_related(*sorted(selects))
        if self.variant_related:
            v_selects = {p.select_related for p in self.variant_plans.values() if p.select_related}
            v_prefetch = {p.prefetch_related for p in self.variant_plans.values() if p.prefetch_related}
            variant_qs = self.variant_model._default_manager.order_by("pk")
            if v_selects:
                variant_qs = variant_qs.select_related(*sorted(v_selects))
            prefetches.discard(self.variant_related)
            qs = qs.prefetch_related(models.Prefetch(self.variant_related, queryset=variant_qs))
            prefetches.update(f"{self.variant_related}__{p}" for p in v_prefetch)
        if prefetches:
            qs = qs.prefetch_related(*sorted(prefetches))
        return qs

    def iter_chunks(self, *, chunk_size: int | None = None, after: str | None = None) -> Iterator[list[ProductRecord]]:
        size = int(chunk_size or self.chunk_size)
        base = self._queryset().order_by("pk")
        last_pk: Any = after
        while True:
            # Keyset pagination: constant cost per chunk however deep we are (never OFFSET).
            page = list(base.filter(pk__gt=last_pk)[:size] if last_pk is not None else base[:size])
            if not page:
                return
            last_pk = page[-1].pk
            records: list[ProductRecord] = []
            for product in page:
                records.extend(self._records_of(product))
            yield records

    def cursor_of(self, record_product_pk: Any) -> str:
        """The ``after`` cursor that resumes iteration behind the product with this pk."""
        return str(record_product_pk)

    def _values(self, obj: Any, plans: dict[str, PathPlan]) -> dict[str, Any]:
        return {name: self._convert(name, read_path(obj, plan.segments)) for name, plan in plans.items()}

    def _records_of(self, product: models.Model) -> list[ProductRecord]:
        base = self._values(product, self.plans)
        product_id = base.get("id") or str(product.pk)
        base["id"] = product_id
        variants = list(getattr(product, self.variant_related).all()) if self.variant_related else []
        if not variants:
            return [self._record(base)]
        out = []
        for variant in variants:
            values = dict(base)
            values["item_group_id"] = base.get("item_group_id") or product_id
            own = self._values(variant, self.variant_plans)
            for name, value in own.items():
                if name == "image_urls":
                    value = tuple(dict.fromkeys([*(value or ()), *base.get("image_urls", ())]))
                if value not in (None, "", ()):
                    values[name] = value
            if not own.get("id"):
                values["id"] = f"{product_id}{DEFAULT_VARIANT_SEPARATOR}{variant.pk}"
            out.append(self._record(values))
        return out

    def _record(self, values: dict[str, Any]) -> ProductRecord:
        values.setdefault("currency", app_settings.CURRENCY)
        if not values.get("currency"):
            values["currency"] = app_settings.CURRENCY
        if "availability" not in values or not values["availability"]:
            quantity = values.get("quantity")
            values["availability"] = (
                Availability.IN_STOCK if quantity is None or quantity > 0 else Availability.OUT_OF_STOCK
            )
        values["url"] = absolute_url(values.get("url") or "")
        values["image_urls"] = tuple(absolute_url(u) for u in values.get("image_urls", ()) if u)
        return ProductRecord(**{k: v for k, v in values.items() if k in MAPPABLE_FIELDS})

    @staticmethod
    def _convert(name: str, value: Any) -> Any:
        if name == "image_urls":
            items = value if isinstance(value, (list, tuple)) else [value]
            return tuple(u for u in (file_url(item) for item in items) if u)
        if isinstance(value, list):
            value = value[0] if value else None
        if name in ("price", "sale_price"):
            return to_decimal(value)
        if name in ("sale_starts_at", "sale_ends_at", "created_at"):
            return value if isinstance(value, datetime) else None
        if name == "quantity":
            return None if value is None else int(value)
        if name == "category_path":
            if isinstance(value, (list, tuple)):
                return tuple(str(v).strip() for v in value if str(v).strip())
            return tuple(part.strip() for part in str(value or "").split(">") if part.strip())
        if name == "availability":
            return normalise_availability(value)
        if name == "url":
            return file_url(value) or ""
        return "" if value is None else str(value)

    # -- lookups ------------------------------------------------------------------------------
    def get_records(self, ids: Sequence[str]) -> dict[str, ProductRecord]:
        wanted = {str(i) for i in ids if i}
        if not wanted:
            return {}
        qs = self._queryset()
        id_plan = self.plans.get("id")
        v_id_plan = self.variant_plans.get("id")
        product_keys: set[str] = set()
        for raw in wanted:
            if self.variant_related and not v_id_plan and DEFAULT_VARIANT_SEPARATOR in raw:
                product_keys.add(raw.split(DEFAULT_VARIANT_SEPARATOR, 1)[0])
            else:
                product_keys.add(raw)
        lookup = self._id_q(id_plan, product_keys)
        if self.variant_related and v_id_plan:
            lookup |= models.Q(**{f"{self.variant_related}__{'__'.join(v_id_plan.segments)}__in": wanted})
        found: dict[str, ProductRecord] = {}
        for product in qs.filter(lookup).distinct():
            for record in self._records_of(product):
                if record.id in wanted:
                    found[record.id] = record
        return found

    def ids_for(self, obj: Any) -> list[str]:
        if self.variant_model is not None and isinstance(obj, self.variant_model):
            parent = next(
                f.name for f in self.variant_model._meta.get_fields()
                if f.is_relation and f.many_to_one and f.related_model is self.model
            )
            product = getattr(obj, parent)
            own = self._values(obj, {"id": self.variant_plans["id"]}) if "id" in self.variant_plans else {}
            return [own.get("id") or f"{self._product_id(product)}{DEFAULT_VARIANT_SEPARATOR}{obj.pk}"]
        if isinstance(obj, self.model):
            return [record.id for record in self._records_of(obj)]
        raise CatalogError(f"{type(obj).__name__} is neither {self.model.__name__} nor its variant model")

    def _product_id(self, product: models.Model) -> str:
        if "id" in self.plans:
            return self._values(product, {"id": self.plans["id"]})["id"] or str(product.pk)
        return str(product.pk)

    def _id_q(self, plan: PathPlan | None, values: set[str]) -> models.Q:
        """A filter for products whose mapped id (the pk when unmapped) is in ``values``."""
        if plan is None:
            pks = []
            for value in values:
                try:
                    pks.append(self.model._meta.pk.to_python(value))
                except Exception:  # noqa: BLE001 - a malformed id simply matches nothing
                    continue
            return models.Q(pk__in=pks)
        if not plan.concrete:
            raise CatalogError("the 'id' mapping must name a model field so records can be looked up by id")
        return models.Q(**{f"{'__'.join(plan.segments)}__in": values})

    def count(self) -> int:
        products = self.model._default_manager.filter(**self.filter)
        if not self.variant_related:
            return products.count()
        with_variants = products.filter(**{f"{self.variant_related}__isnull": False}).distinct().count()
        variants = self.variant_model._default_manager.filter(
            **{f"{self._variant_parent_name()}__in": products}
        ).count()
        return products.count() - with_variants + variants

    def _variant_parent_name(self) -> str:
        return self.model._meta.get_field(self.variant_related).field.name

    def search(self, query: str, *, limit: int = 20) -> list[ProductRecord]:
        title_plan = self.plans.get("title")
        if not title_plan or not title_plan.concrete:
            return super().search(query, limit=limit)
        title_q = models.Q(**{f"{'__'.join(title_plan.segments)}__icontains": query})
        qs = self._queryset().filter(title_q | self._id_q(self.plans.get("id"), {query})).order_by("pk")[:limit]
        out: list[ProductRecord] = []
        for product in qs:
            out.extend(self._records_of(product))
        return out[:limit]


def to_decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def normalise_availability(value: Any) -> str:
    """Map a host's availability value (bool, enum, Meta or Google spelling) to ours."""
    if isinstance(value, bool):
        return Availability.IN_STOCK if value else Availability.OUT_OF_STOCK
    text = str(value or "").strip().lower().replace(" ", "_")
    aliases = {"available_for_order": Availability.BACKORDER, "discontinued": Availability.OUT_OF_STOCK}
    text = aliases.get(text, text)
    return text if text in Availability.ALL else ""


def file_url(value: Any) -> str:
    """A URL from a string or a file field value ('' when the file field is empty)."""
    if isinstance(value, FieldFile):
        return value.url if value.name else ""
    return "" if value is None else str(value)


def absolute_url(url: str) -> str:
    """Prefix a site-relative URL with ``SITE_URL`` (left alone when already absolute)."""
    if not url or "://" in url:
        return url
    base = str(app_settings.SITE_URL or "").rstrip("/")
    return f"{base}/{url.lstrip('/')}" if base else url
