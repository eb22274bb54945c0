"""The host store's products as socialshop sees them: ``ProductRecord`` and the ``Catalog`` adapter.

``get_catalog()`` builds the adapter named by ``SOCIALSHOP['CATALOG']``; the generic adapter is
``ModelCatalog`` (model_catalog.py); settings checks are in checks.py.
"""
from __future__ import annotations

from django.utils.module_loading import import_string

from socialshop.catalog.base import Availability, Catalog, ProductRecord, records_by_id
from socialshop.catalog.model_catalog import ModelCatalog
from socialshop.conf import app_settings
from socialshop.exceptions import ConfigurationError

__all__ = ["Availability", "Catalog", "ModelCatalog", "ProductRecord", "get_catalog", "records_by_id"]


def load_catalog_class() -> type[Catalog]:
    """The class named by ``SOCIALSHOP['CATALOG']``; ``ConfigurationError`` naming the key if wrong."""
    path = app_settings.CATALOG
    try:
        cls = import_string(path)
    except ImportError as exc:
        raise ConfigurationError(f"SOCIALSHOP['CATALOG'] = {path!r} cannot be imported: {exc}") from None
    if not (isinstance(cls, type) and issubclass(cls, Catalog)):
        raise ConfigurationError(f"SOCIALSHOP['CATALOG'] = {path!r} is not a subclass of socialshop.catalog.Catalog")
    return cls


def get_catalog() -> Catalog:
    """A catalog built from ``CATALOG`` and ``CATALOG_OPTIONS`` (a new one per call; cheap)."""
    cls = load_catalog_class()
    options = app_settings.CATALOG_OPTIONS or {}
    try:
        return cls(**options)
    except TypeError as exc:
        raise ConfigurationError(f"SOCIALSHOP['CATALOG_OPTIONS'] does not fit {app_settings.CATALOG}: {exc}") from None
