"""Tracking template tags, merged into ``{% load socialshop %}``: ``socialshop_tag`` (in <head>),
``socialshop_event`` (page events) and ``socialshop_consent_banner``.

The script they load is ``static/socialshop/tag.js``; the collector is ``tracking/collector.py``.
"""
from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from django import template
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import _json_script_escapes  # the escapes json_script uses: < > & as \uXXXX
from django.utils.safestring import SafeString, mark_safe

from socialshop.catalog import Catalog, get_catalog
from socialshop.conf import app_settings
from socialshop.privacy.consent import consent_from_request
from socialshop.tracking.server import pop_pending_events, purchase_event_id
from socialshop.tracking.views import tag_source

register = template.Library()
logger = logging.getLogger(__name__)
_reported: set[str] = set()  # log_once: kinds of problem already logged by this process
_reported_lock = threading.Lock()
EVENT_KEYS = ("value", "currency", "order_id", "search_string", "event_id", "post_id", "tag_id")


def _json(value: Any) -> str:
    """JSON safe inside a <script> element (same escaping as Django's json_script)."""
    def default(obj: Any) -> Any:
        if isinstance(obj, Decimal):
            return float(obj)
        raise TypeError(f"{type(obj).__name__} is not JSON serializable")

    return json.dumps(value, default=default, separators=(",", ":")).translate(_json_script_escapes)


def _browser_config() -> dict[str, Any]:
    """``platforms.browser_config()`` (slug -> browser params); {} with no PLATFORMS."""
    if not app_settings.PLATFORMS:
        return {}
    from socialshop.platforms import browser_config

    return browser_config()


@register.simple_tag(takes_context=True)
def socialshop_tag(context: template.Context) -> SafeString:
    """The config JSON and the async tag script; put it in the base template's <head>."""
    request = context.get("request")
    consent = consent_from_request(request) if request is not None else None
    platforms = _browser_config()
    config = {
        "collect": reverse("socialshop:collect"),
        "consent_url": reverse("socialshop:consent"),
        "privacy_url": reverse("socialshop:privacy"),
        "consent_required": bool(app_settings.CONSENT_REQUIRED),
        "consent": consent.as_json() if consent else {"analytics": False, "ads": False, "gpc": False, "opted_out": False},
        "currency": app_settings.CURRENCY,
        "platforms": platforms,
        "pixels_src": static("socialshop/pixels.js") if platforms else None,
        "events": pop_pending_events(request) if request is not None else [],
    }
    src = f"{reverse('socialshop:tag_js')}?v={tag_source()[1]}"
    return mark_safe(  # noqa: S308 - _json escapes <, > and &; src is built from our own url and hash
        f'<script id="socialshop-config" type="application/json">{_json(config)}</script>\n'
        f'<script async src="{src}"></script>'
    )


def _catalog_price(record: Any) -> Decimal | None:
    from django.utils import timezone

    return record.effective_price(timezone.now()) if record is not None else None


def log_once(kind: str, message: str, *args: Any, level: int = logging.WARNING, exc_info: bool = False) -> None:
    """Log ``message`` the first time this process meets ``kind`` (a page renders it on every request)."""
    with _reported_lock:
        if kind in _reported:
            return
        _reported.add(kind)
    logger.log(level, message, *args, exc_info=exc_info)


ITEMS_SHAPE = (
    "a list of dicts {'id': catalog id, 'quantity': n, 'item_price': price} ({'object': product} in place of 'id' "
    "works too), or of cart/order lines with catalog_id (on the line or its .item), quantity and unit_price"
)


def _item_dict(item: Any) -> dict[str, Any]:
    """An ``items`` entry as a dict: dicts pass through; an order or cart line object is read
    through ``catalog_id``, ``quantity`` and ``unit_price`` (on itself or on its ``item``)."""
    if isinstance(item, dict):
        return item
    holder = item if hasattr(item, "catalog_id") else getattr(item, "item", None)
    price = getattr(item, "unit_price", None)
    if price is None and holder is not None:
        price = getattr(holder, "unit_price", None)
    price = price() if callable(price) else price
    return {"id": getattr(holder, "catalog_id", None), "quantity": getattr(item, "quantity", 1), "item_price": price}


def _wrong_items(name: str, problem: str, kind: str) -> None:
    log_once(f"items:{name}:{kind}", "{%% socialshop_event %r items=... %%}: %s; expected %s", name, problem, ITEMS_SHAPE)


def _contents(name: str, items: Any, catalog: Catalog | None) -> tuple[list[dict[str, Any]], Catalog | None]:
    """``contents`` entries from the ``items`` a page passes; a wrong shape is logged, not raised."""
    if isinstance(items, (str, bytes, dict)) or not isinstance(items, Iterable):
        _wrong_items(name, f"items is a {type(items).__name__}, not a list", "not-a-list")
        return [], catalog
    contents: list[dict[str, Any]] = []
    for index, raw in enumerate(items):
        item = _item_dict(raw)
        catalog_id = item.get("id")
        if not catalog_id and item.get("object") is not None:
            catalog = catalog or get_catalog()
            catalog_id = (catalog.ids_for(item["object"])[:1] or [""])[0]
        if not catalog_id:
            what = f"keys {sorted(map(str, item))}" if isinstance(raw, dict) else f"a {type(raw).__name__} without catalog_id"
            _wrong_items(name, f"item {index} ({what}) has no catalog id, so it is left out", "no-id")
            continue
        try:
            quantity = int(item.get("quantity") or 1)
        except (TypeError, ValueError):
            _wrong_items(name, f"item {index} quantity {item.get('quantity')!r} is not a whole number; 1 is sent", "quantity")
            quantity = 1
        entry: dict[str, Any] = {"id": str(catalog_id), "quantity": quantity}
        if item.get("item_price") is not None:
            try:
                entry["item_price"] = Decimal(str(item["item_price"]))
            except (InvalidOperation, ValueError):
                _wrong_items(name, f"item {index} item_price {item['item_price']!r} is not a number; it is left out", "price")
        contents.append(entry)
    return contents, catalog


def _catalog_fields(name: str, product: Any, items: Any, data: dict[str, Any]) -> dict[str, Any]:
    """content_ids, contents and value/currency read through the catalog for ``product``/``items``."""
    out: dict[str, Any] = {}
    catalog = None
    if product is not None:
        catalog = get_catalog()
        ids = catalog.ids_for(product)
        out["content_ids"] = ids
        record = catalog.get_records(ids[:1]).get(ids[0]) if ids else None
        price = _catalog_price(record)
        if price is not None and "value" not in data:
            out["value"], out["currency"] = price, data.get("currency") or record.currency
    if items is not None:
        contents, catalog = _contents(name, items, catalog)
        out["contents"] = contents
        out["content_ids"] = [c["id"] for c in contents]
        if "value" not in data and contents and all("item_price" in c for c in contents):
            out["value"] = sum((c["item_price"] * c["quantity"] for c in contents), Decimal("0"))
    return out


def event_data(*, name: str = "", product: Any = None, items: Any = None, **fields: Any) -> dict[str, Any]:
    """The EVENT fields a page declares: content_ids/contents from ``product`` or ``items``
    (via the catalog), value/currency from the catalog record unless given.

    A catalogue that fails (a broken ``CATALOG_OPTIONS``, a host property that raises) never breaks
    the page: the event goes without content ids and the error is logged once per process.
    """
    data: dict[str, Any] = {k: fields[k] for k in EVENT_KEYS if fields.get(k) not in (None, "")}
    if fields.get("content_ids"):
        data["content_ids"] = [str(i) for i in fields["content_ids"]]
    if isinstance(items, (list, tuple)) and not items:
        items = None  # an empty cart: no contents, nothing wrong
    if product is not None or items is not None:
        try:
            data.update(_catalog_fields(name, product, items, data))
        except Exception as exc:  # noqa: BLE001 - tracking must never turn a storefront page into a 500
            log_once(
                f"catalog:{type(exc).__name__}:{str(exc)[:200]}",
                "{%% socialshop_event %r %%}: the catalogue failed (%s: %s); events go without content ids until it is fixed "
                "(manage.py check names the setting)", name, type(exc).__name__, exc, level=logging.ERROR, exc_info=True,
            )
    if "value" in data:
        try:
            data["value"] = Decimal(str(data["value"]))
        except (InvalidOperation, ValueError):
            log_once(f"value:{name}", "{%% socialshop_event %r value=%r %%}: not a number; the event goes without a value", name, data["value"])
            del data["value"]
        else:
            data.setdefault("currency", app_settings.CURRENCY)
    return data


@register.simple_tag
def socialshop_event(name: str, **kwargs: Any) -> SafeString:
    """An inert JSON element tag.js turns into an event: ``{% socialshop_event "ViewContent" product=p %}``.

    Keywords: product, items (list of {object|id, quantity, item_price}), value, currency,
    order_id, search_string, event_id, post_id, tag_id, content_ids.
    """
    data = event_data(name=str(name), **kwargs)
    if name == "Purchase" and data.get("order_id") and not data.get("event_id"):
        data["event_id"] = purchase_event_id(str(data["order_id"]))  # the id report_order_paid uses
    spec = {"name": str(name), "data": data}
    return mark_safe(  # noqa: S308 - _json escapes <, > and &
        f'<script type="application/json" data-socialshop-event>{_json(spec)}</script>'
    )


@register.simple_tag(takes_context=True)
def socialshop_consent_banner(context: template.Context) -> str:
    """The consent banner (accept, reject, choose) while consent is required and not yet given."""
    request = context.get("request")
    if request is None or not app_settings.CONSENT_REQUIRED:
        return ""
    consent = consent_from_request(request)
    if consent.decided:
        return ""
    return render_to_string("socialshop/consent_banner.html", {
        "next": request.get_full_path(), "privacy_url": reverse("socialshop:privacy"),
    })
