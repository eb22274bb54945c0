"""Mapping records to items per platform spec: value maps, prices, variants, labels, utm, cutting."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from socialshop.catalog import ProductRecord
from socialshop.feeds.items import ItemMapper, ItemOptions, cut_at_word, format_moment, format_price
from socialshop.feeds.rules import Filters, RuleContext, check_label_rules
from socialshop.feeds.specs import GOOGLE, META, PINTEREST, SPECS, TIKTOK

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


def _record(**fields) -> ProductRecord:  # type: ignore[no-untyped-def]
    base = {"id": "SKU-1", "title": "Linen shirt", "url": "https://shop.example/p/1", "price": Decimal("40"),
            "currency": "USD", "image_urls": ("https://shop.example/1.jpg",), "description": "Cool linen.", "brand": "Acme"}
    return ProductRecord(**{**base, **fields})


def _mapper(spec=GOOGLE, labels=(), members=None, **options):  # type: ignore[no-untyped-def]
    opts = {"currency": "USD", "country": "US", "utm": "", "image_limit": 10, "default_brand": "",
            "default_google_category": "", "shipping_price": None, "labels": tuple(labels), **options}
    filters = Filters(categories=(), in_stock_only=False, min_price=None, max_price=None, excluded=frozenset())
    return ItemMapper(spec, ItemOptions(**opts), filters=filters, ctx=RuleContext(now=NOW, members=members or {}))


@pytest.mark.parametrize("spec,expected", [
    (GOOGLE, {"in_stock": "in_stock", "backorder": "backorder"}),
    (META, {"in_stock": "in stock", "backorder": "available for order"}),
    (PINTEREST, {"in_stock": "in stock", "out_of_stock": "out of stock"}),
    (TIKTOK, {"in_stock": "in stock", "backorder": "available for order"}),
])
def test_availability_is_spelled_as_each_platform_wants(spec, expected):
    for ours, theirs in expected.items():
        item, _ = _mapper(spec).map(_record(availability=ours))
        assert item["availability"] == theirs


def test_specs_declare_formats_and_id_columns():
    assert "csv" not in GOOGLE.formats and set(GOOGLE.formats) == {"xml", "tsv"}
    assert TIKTOK.column("id") == "sku_id" and META.column("id") == "id"
    assert set(SPECS) == {"google", "meta", "pinterest", "tiktok"}


def test_variant_fields_and_group_are_sent():
    record = _record(id="SKU-1-RED-M", item_group_id="SKU-1", color="Red", size="M", gender="Female", age_group="adult")

    item, problems = _mapper().map(record)

    assert (item["item_group_id"], item["color"], item["size"], item["gender"], item["age_group"]) == (
        "SKU-1", "Red", "M", "female", "adult")
    assert problems == []


def test_sale_price_with_dates_in_each_platform_format():
    start, end = NOW - timedelta(days=1), NOW + timedelta(days=6)
    record = _record(sale_price=Decimal("30"), sale_starts_at=start, sale_ends_at=end)

    google, _ = _mapper(GOOGLE).map(record)
    meta, _ = _mapper(META).map(record)

    assert google["sale_price"] == "30.00 USD"
    assert google["sale_price_effective_date"] == "2026-11-22T12:00+0000/2026-11-29T12:00+0000"
    assert meta["sale_price_effective_date"] == "2026-11-22T12:00+00:00/2026-11-29T12:00+00:00"


def test_a_sale_price_not_below_the_price_is_dropped_with_a_warning():
    item, problems = _mapper().map(_record(sale_price=Decimal("45")))

    assert "sale_price" not in item
    assert [p[1] for p in problems] == ["sale_price_ignored"]


def test_prices_use_the_currency_minor_units():
    assert format_price(Decimal("1234.5"), "USD", spec=GOOGLE) == "1234.50 USD"
    assert format_price(Decimal("1500"), "JPY", spec=GOOGLE) == "1500 JPY"
    assert format_moment(datetime(2026, 1, 2, 3, 4), GOOGLE) == "2026-01-02T03:04+0000"


def test_another_currency_is_an_error_not_a_conversion():
    item, problems = _mapper().map(_record(currency="EUR"))

    assert item is None and problems[-1][1] == "currency_mismatch"


def test_utm_parameters_are_added_to_links_and_extra_images_capped():
    images = tuple(f"https://shop.example/{n}.jpg" for n in range(15))
    item, _ = _mapper(utm="utm_source=google&utm_medium=feed").map(_record(url="https://shop.example/p?id=1", image_urls=images))

    assert item["link"] == "https://shop.example/p?id=1&utm_source=google&utm_medium=feed"
    assert item["image_link"] == images[0]
    assert item["additional_image_link"] == list(images[1:11])


def test_relative_links_are_an_error_naming_site_url():
    item, problems = _mapper().map(_record(url="/p/1"))

    assert item is None and "SITE_URL" in problems[-1][2]


def test_custom_label_rules():
    labels = [
        {"rule": "on_sale", "value": "sale"},
        {"rule": "new_arrival", "days": 14, "value": "new"},
        {"rule": "price_band", "bands": [[0, 25, "budget"], [25, None, "premium"]]},
        {"rule": "ids", "ids": ["SKU-1"], "value": "summer-campaign"},
        {"rule": "best_seller", "value": "top"},
    ]
    record = _record(sale_price=Decimal("20"), created_at=NOW - timedelta(days=3))

    item, _ = _mapper(labels=labels, members={3: frozenset({"SKU-1"}), 4: frozenset({"OTHER"})}).map(record)

    assert [item.get(f"custom_label_{n}") for n in range(5)] == ["sale", "new", "budget", "summer-campaign", None]


def test_label_rules_are_checked_with_messages_naming_the_label():
    assert check_label_rules([{"rule": "on_sale"}, {"rule": "bogus"}, {"rule": "price_band"}]) == [
        "custom_label_1: rule must be one of on_sale, new_arrival, best_seller, price_band, ids, category, static, product_set, field, got {'rule': 'bogus'}",
        "custom_label_2: rule 'price_band' needs bands",
    ]


def test_cut_at_word_never_splits_a_word():
    assert cut_at_word("alpha beta gamma", 12) == "alpha beta"
    assert cut_at_word("alpha beta", 50) == "alpha beta"
    assert cut_at_word("x" * 30, 10) == "x" * 10


def test_duplicate_ids_in_a_chunk_are_left_out():
    mapper = _mapper()
    first, _ = mapper.map(_record())
    second, problems = mapper.map(_record())

    assert first is not None and second is None and problems[0][1] == "duplicate_id"


def test_over_long_id_is_an_error_for_google_but_only_a_warning_where_unconfirmed():
    long_id = "X" * 60
    google, google_problems = _mapper(GOOGLE).map(_record(id=long_id))
    tiktok, tiktok_problems = _mapper(TIKTOK).map(_record(id=long_id))

    assert google is None and google_problems[-1][1] == "id_too_long"
    assert tiktok is not None and tiktok_problems[0][1] == "id_may_be_too_long"
