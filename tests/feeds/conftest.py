"""Fixtures for feed tests: demo-store products with images, and feeds per platform."""
from __future__ import annotations

from typing import Any

import pytest

from shop_demo.store.models import ProductImage
from socialshop.feeds.models import Feed
from tests.factories import ProductFactory, VariantFactory


def make_product(*, images: int = 1, variants: int = 0, **fields: Any):  # type: ignore[no-untyped-def]
    """A demo Product with ``images`` image rows and ``variants`` variants (sku = slug-n)."""
    product = ProductFactory(**fields)
    for n in range(images):
        ProductImage.objects.create(product=product, image=f"products/{product.slug}-{n}.jpg", position=n)
    for n in range(variants):
        VariantFactory(product=product, sku=f"{product.slug}-v{n}", size=("S", "M", "L", "XL")[n % 4], stock=3)
    return product


def make_feed(platform: str = "google", file_format: str = "xml", **fields: Any) -> Feed:
    """An enabled feed with a fixed token ``secret-<slug>``."""
    slug = fields.pop("slug", f"{platform}-{file_format}")
    return Feed.objects.create(name=fields.pop("name", f"{platform} {file_format}"), slug=slug, platform=platform,
                               file_format=file_format, token=f"secret-{slug}", **fields)


@pytest.fixture
def feed_storage_dir(settings, tmp_path):  # type: ignore[no-untyped-def]
    """Feed files in a fresh directory per test."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def read_feed_file(build) -> bytes:  # type: ignore[no-untyped-def]
    """The bytes a build stored."""
    from django.core.files.storage import storages

    with storages["default"].open(build.file_name, "rb") as handle:
        return handle.read()


def parse_items(build, file_format: str = "xml") -> list[dict[str, list[str] | str]]:  # type: ignore[no-untyped-def]
    """Items of a built file, parsed strictly: lxml (no recovery) for XML, the csv module otherwise.

    XML items map local tag names to text (lists for repeated tags).
    """
    import csv
    import io

    from lxml import etree

    data = read_feed_file(build)
    if file_format == "xml":
        root = etree.fromstring(data, etree.XMLParser(recover=False, resolve_entities=False, huge_tree=False))
        items = []
        for element in root.iter("item"):
            item: dict = {}
            for child in element:
                tag = etree.QName(child).localname
                value = child.text if len(child) == 0 else {etree.QName(c).localname: c.text for c in child}
                if tag in item:
                    item[tag] = [*([item[tag]] if not isinstance(item[tag], list) else item[tag]), value]
                else:
                    item[tag] = value
            items.append(item)
        return items
    text = data.decode("utf-8")
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter="," if file_format == "csv" else "\t"))
