"""System checks for the catalog settings (socialshop.E001–E019, E120–E122).

A custom catalog class validates its own options through ``Catalog.check_options`` (catalog/base.py).
"""
from __future__ import annotations

import inspect
from typing import Any

from django.core.checks import CheckMessage, Error
from django.core.exceptions import FieldError, ValidationError

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
    errors: list[CheckMessage] = _run_class_checks(cls, options)
    model_label = options.get("model")
    if issubclass(cls, ModelCatalog) and not model_label:
        return errors + [Error("SOCIALSHOP['CATALOG_OPTIONS']['model'] is not set", hint="Name your product model, e.g. 'shop.Product'.", id="socialshop.E003")]
    errors = _check_signature(cls, options) + errors
    if not issubclass(cls, ModelCatalog):
        return errors
    from django.apps import apps

    try:
        model = apps.get_model(model_label)
    except (LookupError, ValueError):
        return errors + [Error(f"SOCIALSHOP['CATALOG_OPTIONS']['model'] = {model_label!r} is not an installed model", hint="Use 'app_label.ModelName'.", id="socialshop.E003")]
    errors += check_filter(model, options.get("filter"))
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


def check_filter(model: type, lookups: Any) -> list[CheckMessage]:
    """socialshop.E120 when ``CATALOG_OPTIONS['filter']`` is not a dict of lookups ``model`` accepts.

    The queryset is only built, never run: a misspelt field or a value of the wrong type fails here
    instead of on every product page and feed build.
    """
    key = "SOCIALSHOP['CATALOG_OPTIONS']['filter']"
    if lookups is None:
        return []
    if not isinstance(lookups, dict):
        return [Error(f"{key} = {lookups!r} is not a dict", hint="Use a dict of queryset lookups, e.g. {'is_active': True}.", id="socialshop.E120")]
    errors: list[CheckMessage] = []
    for lookup, value in lookups.items():
        try:
            model._default_manager.filter(**{str(lookup): value})
        except (FieldError, ValidationError, ValueError, TypeError) as exc:
            reason = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            errors.append(Error(
                f"{key}[{lookup!r}] = {value!r} is not a valid lookup on {model.__name__}: {reason}",
                hint=f"Use a field of {model.__name__} (follow relations with '__') and a value of its type.",
                id="socialshop.E120",
            ))
    return errors


def _check_signature(cls: type, options: dict[str, Any]) -> list[CheckMessage]:
    """socialshop.E121 when the options do not fit the catalog class's keyword arguments."""
    try:
        inspect.signature(cls).bind(**{str(k): v for k, v in options.items()})
    except TypeError as exc:
        return [Error(
            f"SOCIALSHOP['CATALOG_OPTIONS'] = {options!r} does not fit {cls.__module__}.{cls.__qualname__}: {exc}",
            hint="Give only the keyword arguments the catalog class accepts (and every required one).",
            id="socialshop.E121",
        )]
    except ValueError:  # no signature to inspect (a C-level __init__): the class checks its own options
        return []
    return []


def _run_class_checks(cls: type, options: dict[str, Any]) -> list[CheckMessage]:
    """The catalog class's own ``check_options`` messages; socialshop.E122 when the hook itself fails."""
    try:
        messages = list(cls.check_options(dict(options)))
    except Exception as exc:  # noqa: BLE001 - a broken hook must show as a check error, not a traceback
        return [Error(
            f"{cls.__module__}.{cls.__qualname__}.check_options() raised {type(exc).__name__}: {exc}",
            hint="Fix the catalog class's check_options(); it should return check messages, not raise.",
            id="socialshop.E122",
        )]
    bad = [m for m in messages if not isinstance(m, CheckMessage)]
    if bad:
        return [Error(
            f"{cls.__module__}.{cls.__qualname__}.check_options() returned {bad[0]!r}, not a check message",
            hint="Return a list of django.core.checks.Error / Warning.",
            id="socialshop.E122",
        )]
    return messages
