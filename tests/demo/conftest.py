"""Fixtures for the demo store tests: a small seeded store and helpers to find offers in it."""
from __future__ import annotations

import pytest
from django.test import Client

from shop_demo.store.models import Category, Product, Variant
from shop_demo.store.seed import seed_store
from tests.factories import ProductFactory


@pytest.fixture(autouse=True)
def _small_seed_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the seed steps other concerns add (traffic, posts) small in these tests."""
    monkeypatch.setenv("SHOP_DEMO_VISITORS", "30")
    monkeypatch.setenv("SHOP_DEMO_POSTS", "2")


@pytest.fixture
def small_store(db: None) -> dict[str, int]:
    """A seeded store with 12 products and 3 customers (same data every time)."""
    return seed_store(products=12, customers=3)


@pytest.fixture
def in_stock_variant(small_store: dict[str, int]) -> Variant:
    return Variant.objects.filter(stock__gte=3, product__is_active=True).select_related("product").order_by("pk").first()


@pytest.fixture
def sold_out_variant(small_store: dict[str, int]) -> Variant:
    variant = Variant.objects.filter(product__is_active=True).order_by("pk").last()
    variant.stock = 0
    variant.save(update_fields=["stock"])
    return variant


@pytest.fixture
def simple_product(small_store: dict[str, int]) -> Product:
    """An active product sold without variants (its catalog id is its pk)."""
    return ProductFactory(category=Category.objects.filter(parent__isnull=False).first(), name="Gift Card", slug="gift-card")


def add(client: Client, catalog_id: str, quantity: object = 1, *, json: bool = True, follow: bool = False,
        **extra: object):  # type: ignore[no-untyped-def]
    """POST /cart/add/ the way a shoppable post or the product page does (HTTP_* extras are headers)."""
    headers = {k: v for k, v in extra.items() if k.startswith("HTTP_")}
    data = {k: v for k, v in extra.items() if not k.startswith("HTTP_")}
    if json:
        headers["HTTP_ACCEPT"] = "application/json"
    return client.post("/cart/add/", {"product_id": catalog_id, "quantity": quantity, **data}, follow=follow, **headers)
