"""``ModelCatalog``: the generic adapter over any Django product model, configured by field mapping.

Reads in bulk: one keyset-paginated query of plain columns per chunk, plus one query per to-many
path, one for variants, one for instances only when a mapping names a property or method, and two
for a property or method of a related model (``section__trail``: the keys, then the objects); so
a chunk costs a constant number of queries and no model instances where none are needed. Paths
are planned in ``catalog/paths.py``; settings are validated in ``catalog/checks.py``.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist, FieldError, ValidationError
from django.db import models

from socialshop.catalog.base import Availability, Catalog, ProductRecord
from socialshop.catalog.paths import (
    ATTR, LOCAL, MANY, MAPPABLE_FIELDS, RELATED_ATTR, REQUIRED_FIELDS, TEMPLATE, PathPlan, absolute_url, converter,
    normalise_availability, plan_path, read_attr,
)
from socialshop.conf import app_settings
from socialshop.exceptions import CatalogError

__all__ = ["MAPPABLE_FIELDS", "REQUIRED_FIELDS", "ModelCatalog", "normalise_availability", "plan_path"]

DEFAULT_VARIANT_SEPARATOR = "-"
Raw = dict[str, Any]

INDEX = {name: index for index, name in enumerate(ProductRecord._fields)}
ID, IMAGES, AVAILABILITY, QUANTITY, CURRENCY = (
    INDEX["id"], INDEX["image_urls"], INDEX["availability"], INDEX["quantity"], INDEX["currency"])
BLANK = tuple(ProductRecord(id="", title="", url="", price=None, currency="", availability=""))


def _values(values: dict[str, Any], currency: str) -> list[Any]:
    """A record's fields in ``ProductRecord`` order: ``values`` over the defaults."""
    out = list(BLANK)
    for name, value in values.items():
        out[INDEX[name]] = value
    if not out[CURRENCY]:
        out[CURRENCY] = currency
    return out


def _derive_availability(values: list[Any]) -> None:
    """In stock unless a quantity says none is left, when no availability is mapped."""
    if not values[AVAILABILITY]:
        quantity = values[QUANTITY]
        values[AVAILABILITY] = Availability.IN_STOCK if quantity is None or quantity > 0 else Availability.OUT_OF_STOCK


class ReadPlan:
    """The queries that read one model's mapped paths for a set of primary keys."""

    def __init__(self, model: type[models.Model], plans: dict[str, PathPlan]) -> None:
        unknown = sorted(set(plans) - set(MAPPABLE_FIELDS))
        if unknown:
            raise CatalogError(f"{', '.join(unknown)}: not product record fields (use {', '.join(MAPPABLE_FIELDS)})")
        self.model = model
        self.plans = plans
        self.converters = {name: converter(name, plan) for name, plan in plans.items()}
        self.local_paths = list(dict.fromkeys(
            [p.path for p in plans.values() if p.kind == LOCAL]
            + [param for p in plans.values() if p.kind == TEMPLATE for param in p.params]
        ))
        converters = self.converters
        self.local = [
            (name, self.local_paths.index(p.path) + 1, converters[name]) for name, p in plans.items() if p.kind == LOCAL
        ]
        self.templates = [
            (name, p.path, [(param, self.local_paths.index(param) + 1) for param in p.params], converters[name])
            for name, p in plans.items() if p.kind == TEMPLATE
        ]
        self.many = [(name, p) for name, p in plans.items() if p.kind == MANY]
        self.attrs = [(name, p.path) for name, p in plans.items() if p.kind == ATTR]
        # relation path -> (related model, [(record field, property or method)])
        self.related: dict[str, tuple[type[models.Model], list[tuple[str, str]]]] = {}
        for name, p in plans.items():
            if p.kind == RELATED_ATTR:
                self.related.setdefault(p.relation, (p.related_model, []))[1].append((name, p.attr))
        # Plain columns only (the usual variant mapping: sku, size, colour, price, stock): rows can
        # be written straight into a record's value list, see ``fill``.
        self.columns_only = not (
            self.templates or self.many or self.attrs or self.related or {"url", "image_urls"} & set(plans))
        self.fill_plan = [(INDEX[name], index, convert) for name, index, convert in self.local]

    def columns(self, *leading: str) -> list[str]:
        return [*leading, *self.local_paths]

    def unpack(self, row: Sequence[Any], offset: int = 0) -> Raw:
        """The record values of one main-query row, converted (``complete`` adds the others)."""
        values = {name: convert(row[index + offset]) for name, index, convert in self.local}
        for name, template, params, convert in self.templates:
            values[name] = convert(template.format_map(
                {param: "" if row[i + offset] is None else row[i + offset] for param, i in params}))
        return values

    def fill(self, values: list[Any], row: Sequence[Any], offset: int = 0) -> None:
        """Write a ``columns_only`` row's non-empty values into ``values`` (in record field order)."""
        for position, index, convert in self.fill_plan:
            value = convert(row[index + offset])
            if value is not None and value != "" and value != ():
                values[position] = value

    def complete(self, raws: dict[Any, Raw], *, span: tuple[Any, Any] | None = None) -> None:
        """Add converted to-many and attribute values to ``raws`` (pk -> values), one query each.

        ``span`` (lowest pk, highest pk) says ``raws`` holds every wanted row in that range, so
        the to-many queries select the range instead of sending a thousand ids.
        """
        if not raws:
            return
        pks = list(raws)
        manager = self.model._default_manager
        wanted = models.Q(pk__gte=span[0], pk__lte=span[1]) if span else models.Q(pk__in=pks)
        for name, plan in self.many:
            found: dict[Any, list[Any]] = {pk: [] for pk in pks}
            for pk, value in manager.filter(wanted).order_by("pk", *plan.ordering).values_list("pk", plan.path):
                if value is not None and value != "" and pk in found:
                    found[pk].append(value)
            convert = self.converters[name]
            for pk, values in found.items():
                raws[pk][name] = convert(values)
        if self.attrs:
            for pk, instance in manager.in_bulk(pks).items():
                for name, attr in self.attrs:
                    raws[pk][name] = self.converters[name](read_attr(instance, attr))
        if self.related:
            self._complete_related(raws, manager.filter(wanted))

    def _complete_related(self, raws: dict[Any, Raw], rows: models.QuerySet) -> None:
        """Properties and methods of related objects (``section__trail``): one query for the keys,
        then one per related model for the distinct objects; never one per product."""
        relations = list(self.related)
        keys: dict[Any, tuple[Any, ...]] = {
            row[0]: row[1:] for row in rows.order_by().values_list("pk", *relations) if row[0] in raws}
        for position, relation in enumerate(relations):
            related_model, reads = self.related[relation]
            wanted = {key[position] for key in keys.values() if key[position] is not None}
            objects = related_model._default_manager.in_bulk(wanted) if wanted else {}
            for pk, key in keys.items():
                obj = objects.get(key[position])
                for name, attr in reads:
                    raws[pk][name] = self.converters[name](read_attr(obj, attr) if obj is not None else None)


def absolutise(values: dict[str, Any], site: str) -> None:
    """Make ``url`` and ``image_urls`` in ``values`` absolute against ``site``, in place."""
    if "url" in values:
        values["url"] = absolute_url(values["url"], site)
    images = values.get("image_urls")
    if images:
        values["image_urls"] = tuple(u if "://" in u else absolute_url(u, site) for u in images)


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
        self.filter = dict(filter or {})
        try:
            # Built, not run: a misspelt lookup fails here, naming the option, not as a FieldError mid-page.
            self.model._default_manager.filter(**self.filter)
        except (FieldError, ValidationError, ValueError, TypeError) as exc:
            raise CatalogError(f"CATALOG_OPTIONS['filter'] = {self.filter!r} does not fit {self.model.__name__}: {exc}") from None
        if chunk_size:
            self.chunk_size = int(chunk_size)
        self.plans = {name: plan_path(self.model, path) for name, path in (fields or {}).items()}
        self.products = ReadPlan(self.model, self.plans)
        self.variants: ReadPlan | None = None
        self.variant_parent = ""
        if variants:
            related = variants.get("related_name", "variants")
            try:
                relation = self.model._meta.get_field(related)
            except FieldDoesNotExist:
                raise CatalogError(f"{self.model.__name__} has no related name {related!r} for variants") from None
            if not relation.one_to_many:
                raise CatalogError(f"{self.model.__name__}.{related} is not a reverse foreign key from a variant model")
            variant_model = relation.related_model
            self.variant_parent = relation.field.attname
            self.variants = ReadPlan(
                variant_model,
                {name: plan_path(variant_model, path) for name, path in (variants.get("fields") or {}).items()},
            )

    @property
    def variant_model(self) -> type[models.Model] | None:
        return self.variants.model if self.variants else None

    # -- reading ------------------------------------------------------------------------------
    def _products(self) -> models.QuerySet:
        return self.model._default_manager.filter(**self.filter)

    def iter_chunks(self, *, chunk_size: int | None = None, after: str | None = None) -> Iterator[list[ProductRecord]]:
        size = int(chunk_size or self.chunk_size)
        base = self._products().order_by("pk").values_list(*self.products.columns("pk"))
        last_pk: Any = after
        while True:
            # Keyset pagination: the same cost per chunk however deep we are (never OFFSET).
            rows = list((base.filter(pk__gt=last_pk) if last_pk is not None else base)[:size])
            if not rows:
                return
            last_pk = rows[-1][0]
            yield [record for _, _, record in self._load(rows, span=(rows[0][0], last_pk))]

    def _load(self, rows: Sequence[Sequence[Any]], *, span: tuple[Any, Any] | None = None) -> list[tuple[Any, Any, ProductRecord]]:
        """(product pk, variant pk or None, record) for main-query rows, in order.

        ``span``: the rows are every sellable product from its first to its last pk (a chunk).
        """
        raws: dict[Any, Raw] = {row[0]: self.products.unpack(row) for row in rows}
        self.products.complete(raws, span=span)
        by_product: dict[Any, list[tuple[Any, Raw]]] = defaultdict(list)
        if self.variants is not None:
            parent = self.variant_parent
            if span:
                wanted = {f"{parent}__gte": span[0], f"{parent}__lte": span[1]}
            else:
                wanted = {f"{parent}__in": list(raws)}
            variant_rows = (
                self.variants.model._default_manager.filter(**wanted)
                .order_by(parent, "pk")
                .values_list(*self.variants.columns("pk", parent))
            )
            columns_only = self.variants.columns_only
            variant_raws: dict[Any, Raw] = {}
            for row in variant_rows:
                if row[1] in raws:  # a product in the span that the catalogue filter leaves out
                    own = row if columns_only else self.variants.unpack(row, offset=1)
                    variant_raws[row[0]] = own
                    by_product[row[1]].append((row[0], own))
            if not columns_only:
                self.variants.complete(variant_raws)
        out: list[tuple[Any, Any, ProductRecord]] = []
        site = str(app_settings.SITE_URL or "")
        currency = app_settings.CURRENCY
        make = ProductRecord._make
        for pk, base in raws.items():
            absolutise(base, site)
            product_id = base.get("id") or str(pk)
            base["id"] = product_id
            variants = by_product.get(pk)
            if not variants:
                values = _values(base, currency)
                _derive_availability(values)
                out.append((pk, None, make(values)))
                continue
            # Variants share the product's value objects: one list per product, copied per variant.
            base["item_group_id"] = base.get("item_group_id") or product_id
            template = _values(base, currency)
            base_images = template[IMAGES]
            fill = self.variants.fill if self.variants.columns_only else None  # type: ignore[union-attr]
            for variant_pk, own in variants:
                values = template.copy()
                if fill is not None:
                    fill(values, own, 1)
                else:
                    absolutise(own, site)
                    for name, value in own.items():
                        if name == "image_urls" and value:
                            value = tuple(dict.fromkeys([*value, *base_images]))
                        if value is not None and value != "" and value != ():
                            values[INDEX[name]] = value
                if not values[ID] or values[ID] == product_id:
                    values[ID] = f"{product_id}{DEFAULT_VARIANT_SEPARATOR}{variant_pk}"
                _derive_availability(values)
                out.append((pk, variant_pk, make(values)))
        return out

    def _rows_for(self, pks: Sequence[Any], *, only_sellable: bool = True) -> list[Sequence[Any]]:
        qs = self._products() if only_sellable else self.model._default_manager.all()
        return list(qs.filter(pk__in=list(pks)).order_by("pk").values_list(*self.products.columns("pk")))

    # -- lookups ------------------------------------------------------------------------------
    def get_records(self, ids: Sequence[str]) -> dict[str, ProductRecord]:
        wanted = {str(i) for i in ids if i}
        if not wanted:
            return {}
        keys = set(wanted)
        if self.variants is not None and "id" not in self.variants.plans:
            keys |= {i.rsplit(DEFAULT_VARIANT_SEPARATOR, 1)[0] for i in wanted if DEFAULT_VARIANT_SEPARATOR in i}
        pks = set(self._product_pks(keys))
        if self.variants is not None and "id" in self.variants.plans:
            path = self.variants.plans["id"].path
            pks |= set(
                self.variants.model._default_manager.filter(**{f"{path}__in": wanted})
                .values_list(self.variant_parent, flat=True)
            )
        return {r.id: r for _, _, r in self._load(self._rows_for(pks)) if r.id in wanted}

    def _product_pks(self, keys: set[str]) -> list[Any]:
        plan = self.plans.get("id")
        if plan is None:
            pks = []
            for key in keys:
                try:
                    pks.append(self.model._meta.pk.to_python(key))
                except Exception:  # noqa: BLE001 - a malformed id simply matches nothing
                    continue
            return pks
        if not plan.concrete:
            raise CatalogError("the 'id' mapping must name a model field so records can be looked up by id")
        return list(self.model._default_manager.filter(**{f"{plan.path}__in": keys}).values_list("pk", flat=True))

    def ids_for(self, obj: Any) -> list[str]:
        variant_model = self.variant_model
        if variant_model is not None and isinstance(obj, variant_model):
            loaded = self._load(self._rows_for([getattr(obj, self.variant_parent)], only_sellable=False))
            return [record.id for _, variant_pk, record in loaded if variant_pk == obj.pk]
        if isinstance(obj, self.model):
            return [record.id for _, _, record in self._load(self._rows_for([obj.pk], only_sellable=False))]
        raise CatalogError(f"{type(obj).__name__} is neither {self.model.__name__} nor its variant model")

    def count(self) -> int:
        products = self._products()
        if self.variants is None:
            return products.count()
        variants = self.variants.model._default_manager.filter(**{f"{self.variant_parent}__in": products.values("pk")})
        with_variants = variants.values(self.variant_parent).distinct().count()
        return products.count() - with_variants + variants.count()

    def search(self, query: str, *, limit: int = 20) -> list[ProductRecord]:
        title = self.plans.get("title")
        if not title or not title.concrete:
            return super().search(query, limit=limit)
        match = models.Q(**{f"{title.path}__icontains": query})
        id_plan = self.plans.get("id")
        if id_plan is not None and id_plan.concrete:
            match |= models.Q(**{f"{id_plan.path}__iexact": query})
        pks = list(self._products().filter(match).order_by("pk").values_list("pk", flat=True).distinct()[:limit])
        return [record for _, _, record in self._load(self._rows_for(pks))][:limit]
