"""System checks for the catalog settings (socialshop.E001–E019)."""
from __future__ import annotations

from django.core.checks import CheckMessage, Error

from socialshop.catalog.model_catalog import MAPPABLE_FIELDS, REQUIRED_FIELDS, plan_path
from socialshop.conf import app_settings
from socialshop.exceptions import CatalogError, ConfigurationError


def check_catalog() -> list[CheckMessage]:
    """Errors for a CATALOG that cannot load or a ModelCatalog mapping that names missing fields."""
    from socialshop.catalog import ModelCatalog, load_catalog_class

    try:
        cls = load_catalog_class()
    except ConfigurationError as exc:
        return [Error(str(exc), hint="Point CATALOG at a Catalog subclass, e.g. 'socialshop.catalog.ModelCatalog'.", id="socialshop.E001")]
    options = app_settings.CATALOG_OPTIONS
    if not isinstance(options, dict):
        return [Error(f"SOCIALSHOP['CATALOG_OPTIONS'] = {options!r} is not a dict", hint="Use a dict of keyword options.", id="socialshop.E002")]
    if not issubclass(cls, ModelCatalog):
        return []
    errors: list[CheckMessage] = []
    model_label = options.get("model")
    if not model_label:
        return [Error("SOCIALSHOP['CATALOG_OPTIONS']['model'] is not set", hint="Name your product model, e.g. 'shop.Product'.", id="socialshop.E003")]
    from django.apps import apps

    try:
        model = apps.get_model(model_label)
    except (LookupError, ValueError):
        return [Error(f"SOCIALSHOP['CATALOG_OPTIONS']['model'] = {model_label!r} is not an installed model", hint="Use 'app_label.ModelName'.", id="socialshop.E003")]
    fields = options.get("fields") or {}
    errors += _check_mapping(model, fields, "SOCIALSHOP['CATALOG_OPTIONS']['fields']")
    missing = [name for name in REQUIRED_FIELDS if name not in fields]
    if missing:
        errors.append(Error(
            f"SOCIALSHOP['CATALOG_OPTIONS']['fields'] does not map {', '.join(missing)}",
            hint="Map every required record field to a field, property or method of your product model.",
            id="socialshop.E005",
        ))
    variants = options.get("variants")
    if variants:
        related = variants.get("related_name", "variants")
        try:
            variant_model = model._meta.get_field(related).related_model
        except Exception:  # noqa: BLE001 - any lookup failure is the same user error
            variant_model = None
        if variant_model is None:
            errors.append(Error(
                f"SOCIALSHOP['CATALOG_OPTIONS']['variants']['related_name'] = {related!r}: {model.__name__} has no such relation",
                hint="Give the related_name of the ForeignKey from your variant model to the product model.",
                id="socialshop.E006",
            ))
        else:
            errors += _check_mapping(variant_model, variants.get("fields") or {}, "SOCIALSHOP['CATALOG_OPTIONS']['variants']['fields']")
    return errors


def _check_mapping(model: type, fields: object, key: str) -> list[CheckMessage]:
    if not isinstance(fields, dict):
        return [Error(f"{key} = {fields!r} is not a dict", hint="Map record fields to model paths.", id="socialshop.E004")]
    errors: list[CheckMessage] = []
    for name, path in fields.items():
        if name not in MAPPABLE_FIELDS:
            errors.append(Error(f"{key}[{name!r}]: {name!r} is not a product record field", hint=f"Use one of: {', '.join(MAPPABLE_FIELDS)}.", id="socialshop.E004"))
            continue
        try:
            plan = plan_path(model, str(path))
        except CatalogError as exc:
            errors.append(Error(f"{key}[{name!r}] = {path!r}: {exc}", hint="Name a field, a related field with '__', or a property/method of the model.", id="socialshop.E004"))
            continue
        if name == "id" and not plan.concrete:
            errors.append(Error(f"{key}['id'] = {path!r} is not a model field", hint="Map 'id' to a database field so records can be fetched by id.", id="socialshop.E004"))
    return errors
