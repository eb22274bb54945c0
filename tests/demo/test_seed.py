"""Seeding: what ``seed_store`` makes, that it is deterministic, the SEED_STEPS hook, and that
``manage.py demo --seed-only`` seeds only an empty store."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from PIL import Image

from shop_demo.store import seed
from shop_demo.store.models import Category, Order, Product, ProductImage, Variant
from socialshop.catalog import get_catalog
from socialshop.conf import app_settings

pytestmark = pytest.mark.django_db


def _gtin_ok(code: str) -> bool:
    digits = [int(d) for d in code]
    return sum(d * (3 if i % 2 else 1) for i, d in enumerate(digits[:-1])) % 10 == (10 - digits[-1]) % 10


def test_seed_store_makes_the_counts_asked_for(small_store: dict) -> None:
    assert small_store["products"] == Product.objects.count() == 12
    assert small_store["customers"] == get_user_model().objects.count() == 3
    assert small_store["variants"] == Variant.objects.count()
    assert small_store["images"] == ProductImage.objects.count() >= 12
    assert small_store["orders"] == Order.objects.count()


def test_seeded_categories_are_a_two_level_tree_with_google_categories(small_store: dict) -> None:
    tops = Category.objects.filter(parent__isnull=True)
    assert tops.count() == 4
    for leaf in Category.objects.filter(parent__isnull=False):
        assert leaf.parent.parent is None
        assert leaf.path == f"{leaf.parent.name} > {leaf.name}"
        assert leaf.google_category.startswith(("Apparel & Accessories", "Home & Garden"))
        assert not leaf.children.exists()


def test_seeded_products_have_one_to_three_variants_and_varied_stock_and_prices(db: None) -> None:
    seed.seed_store(products=60, customers=2)
    for product in Product.objects.prefetch_related("variants"):
        assert 1 <= len(product.variants.all()) <= 3
        assert product.brand and product.description and product.category.parent_id
        assert bool(product.gtin) != bool(product.mpn)
        if product.gtin:
            assert len(product.gtin) == 13 and _gtin_ok(product.gtin)
        if product.sale_price is not None:
            assert product.sale_price < product.price
    stocks = list(Variant.objects.values_list("stock", flat=True))
    assert 0 in stocks and any(0 < s < 5 for s in stocks) and any(s >= 5 for s in stocks)
    assert Product.objects.filter(sale_price__isnull=False, sale_ends_at__isnull=False).exists()
    assert any(p.is_on_sale() for p in Product.objects.filter(sale_price__isnull=False))
    assert Variant.objects.exclude(size="").exists() and not Variant.objects.filter(color="").exists()
    assert Product.objects.filter(gender="female").exists() and Product.objects.filter(gender="male").exists()


def test_seeded_images_are_800px_jpegs_with_a_second_angle_for_some(small_store: dict) -> None:
    images = list(ProductImage.objects.all())
    for image in images:
        path = Path(settings.MEDIA_ROOT) / image.image.name
        with Image.open(path) as picture:
            assert picture.format == "JPEG" and picture.size == (800, 800)
    per_product = {}
    for image in images:
        per_product.setdefault(image.product_id, []).append(image.position)
    assert all(1 in positions for positions in per_product.values())
    assert any(len(positions) == 2 for positions in per_product.values())


def test_seeded_customers_have_one_to_four_paid_orders_in_the_last_90_days(small_store: dict) -> None:
    since = timezone.now() - timedelta(days=91)
    for customer in get_user_model().objects.all():
        assert customer.email and customer.first_name and customer.last_name
        orders = list(customer.orders.prefetch_related("lines"))
        assert 1 <= len(orders) <= 4
        for order in orders:
            assert order.status == Order.Status.PAID and order.paid_at and order.created_at > since
            assert order.total == sum(line.line_total for line in order.lines.all())
            assert order.lines.exists()


def test_seed_is_deterministic(db: None) -> None:
    def snapshot() -> list[tuple]:
        return list(Product.objects.order_by("pk").values_list("name", "price", "sale_price", "gtin", "mpn")) + list(
            Variant.objects.order_by("pk").values_list("sku", "size", "color", "stock")
        )

    seed.seed_store(products=12, customers=2)
    first = snapshot()
    Order.objects.all().delete()
    Product.objects.all().delete()
    Category.objects.all().delete()
    get_user_model().objects.all().delete()
    seed.seed_store(products=12, customers=2)
    assert snapshot() == first


def test_seeded_store_reads_through_the_socialshop_catalog_with_skus_as_ids(small_store: dict) -> None:
    records = [r for chunk in get_catalog().iter_chunks() for r in chunk]
    skus = set(Variant.objects.filter(product__is_active=True).values_list("sku", flat=True))
    assert {r.id for r in records} == skus
    record = records[0]
    assert record.image_urls and record.image_urls[0].endswith("-1.jpg")
    assert record.category_path and len(record.category_path) == 2 and record.google_product_category


def test_run_seed_steps_runs_every_step_in_order(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []

    def store_step(progress: object) -> None:
        seen.append("store")

    def posts_step(progress: object) -> None:
        seen.append("posts")

    monkeypatch.setattr(seed, "SEED_STEPS", [store_step, posts_step])
    messages: list[str] = []
    assert seed.run_seed_steps(messages.append) == 2
    assert seen == ["store", "posts"]
    assert [m.split(" took ")[0] for m in messages] == ["  (store_step", "  (posts_step"]


def test_seed_store_step_reads_the_sizes_from_the_environment(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOP_DEMO_PRODUCTS", "5")
    monkeypatch.setenv("SHOP_DEMO_CUSTOMERS", "1")
    messages: list[str] = []
    seed.seed_store_step(messages.append)
    assert Product.objects.count() == 5 and get_user_model().objects.count() == 1
    assert messages[0] == "Seeding the store (5 products, 1 customers)"


def test_demo_seed_only_seeds_an_empty_store_once_and_creates_admin_once(db: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setenv("SHOP_DEMO_PRODUCTS", "6")
    monkeypatch.setenv("SHOP_DEMO_CUSTOMERS", "2")
    monkeypatch.setattr(seed, "SEED_STEPS", [seed.seed_store_step])  # the e2e test runs every step
    monkeypatch.delenv("SITE_URL", raising=False)
    site_url = app_settings.SITE_URL
    call_command("demo", "--seed-only")
    assert app_settings.SITE_URL == site_url  # the demo's own SITE_URL does not outlive the command
    first = capsys.readouterr().out
    assert "Seeding the demo store" in first and "Created superuser admin / admin" in first
    assert "Demo store ready: 6 products" in first
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser and admin.check_password("admin")
    counts = (Product.objects.count(), Variant.objects.count(), Order.objects.count(), get_user_model().objects.count())
    call_command("demo", "--seed-only")
    second = capsys.readouterr().out
    assert "not seeding again" in second and "admin already exists" in second
    assert (Product.objects.count(), Variant.objects.count(), Order.objects.count(), get_user_model().objects.count()) == counts


def test_demo_refuses_a_port_that_is_in_use(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(CommandError, match=f"port {port} on 127.0.0.1 is already in use"):
            call_command("demo", "--port", str(port))
    assert seed.store_is_empty()  # refused before migrating and seeding


def test_demo_refuses_an_impossible_port(db: None) -> None:
    with pytest.raises(CommandError, match="not a TCP port"):
        call_command("demo", "--port", "70000")


def test_a_failing_seed_step_leaves_the_store_empty_so_the_next_run_seeds_again(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(progress: object) -> None:
        raise RuntimeError("step failed")

    monkeypatch.setenv("SHOP_DEMO_PRODUCTS", "4")
    monkeypatch.setattr(seed, "SEED_STEPS", [seed.seed_store_step, broken])
    with pytest.raises(RuntimeError):
        seed.run_seed_steps()
    assert seed.store_is_empty()
