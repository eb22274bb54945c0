"""Host adapters named by dotted path in ``SOCIALSHOP`` (DISCOUNT_ADAPTER, CONTACT_ADAPTER): one loader that
names the key and the value when the path is wrong. The adapters' bases live with their domain (campaigns/)."""
from __future__ import annotations

from typing import TypeVar

from django.utils.module_loading import import_string

from socialshop.conf import app_settings
from socialshop.exceptions import ConfigurationError

T = TypeVar("T")


def load_host_adapter(key: str, base: type[T]) -> T | None:
    """An instance of the class ``SOCIALSHOP[key]`` names, or None when the key is empty.

    ``ConfigurationError`` names the key and its value when it cannot be imported or is not a ``base`` subclass.
    """
    path = getattr(app_settings, key)
    if not path:
        return None
    try:
        cls = import_string(path)
    except ImportError as exc:
        raise ConfigurationError(f"SOCIALSHOP[{key!r}] = {path!r} cannot be imported: {exc}") from None
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise ConfigurationError(f"SOCIALSHOP[{key!r}] = {path!r} is not a {base.__name__} subclass")
    return cls()
