"""GTINs in feeds: the GS1 check digit, GTINs shared by several items, and the demo's own GTINs."""
from __future__ import annotations

from decimal import Decimal

import pytest

from socialshop.catalog import ProductRecord, get_catalog
from socialshop.feeds.builder import build_feed, dry_run
from socialshop.feeds.gtin import EXAMPLE_GROUPS, SharedGtins, gtin_check_digit_ok
from socialshop.feeds.items import ItemMapper, ItemOptions
from socialshop.feeds.rules import Filters, RuleContext
from socialshop.feeds.specs import GOOGLE
from tests.feeds.conftest import make_feed, make_product, parse_items
from tests.feeds.test_items import NOW


def _mapper() -> ItemMapper:
    opts = ItemOptions(currency="USD", country="US", utm="", image_limit=10, default_brand="", default_google_category="",
                       shipping_price=None, labels=())
    filters = Filters(categories=(), in_stock_only=False, min_price=None, max_price=None, excluded=frozenset())
    return ItemMapper(GOOGLE, opts, filters=filters, ctx=RuleContext(now=NOW, members={}))


def _record(item_id: str, gtin: str, **fields) -> ProductRecord:  # type: ignore[no-untyped-def]
    return ProductRecord(id=item_id, title="Linen shirt", description="Cool linen.", url="https://shop.example/p/1", price=Decimal("40"),
                         currency="USD", image_urls=("https://shop.example/1.jpg",), brand="Acme", gtin=gtin, **fields)


@pytest.mark.parametrize(("gtin", "valid"), [
    ("96385074", True), ("96385075", False),                    # GTIN-8
    ("036000291452", True), ("036000291453", False),            # GTIN-12 (UPC-A)
    ("4006381333931", True), ("4006381333932", False),          # GTIN-13 (EAN-13)
    ("10036000291459", True), ("10036000291458", False),        # GTIN-14
    ("0000000000000", True), ("400638133393", False), ("40063813339311", False), ("400638133393x", False),
    ("٤٠٠٦٣٨١٣٣٣٩٣١", False),  # Arabic-Indic digits pass str.isdigit, not GS1
])
def test_gs1_check_digit_is_verified_for_every_gtin_length(gtin: str, valid: bool) -> None:
    assert gtin_check_digit_ok(gtin) is valid


def test_a_wrong_check_digit_is_a_warning_and_the_gtin_is_left_out() -> None:
    item, problems = _mapper().map(_record("SKU-1", "4006381333932"))

    assert item is not None and "gtin" not in item
    assert [(p[0], p[1]) for p in problems] == [("warning", "gtin_check_digit")]
    assert "4006381333932" in problems[0][2]


def test_a_gtin_shared_by_items_is_a_warning_naming_the_first_item() -> None:
    mapper = _mapper()
    first, first_problems = mapper.map(_record("SKU-1", "4006381333931"))
    mapper.new_chunk()  # shared GTINs are found across chunks, not only within one
    second, problems = mapper.map(_record("SKU-2", "4006381333931", color="Red"))
    other, other_problems = mapper.map(_record("SKU-3", "96385074"))

    assert first["gtin"] == second["gtin"] == "4006381333931" and not first_problems and not other_problems
    assert [p[1] for p in problems] == ["shared_gtin"] and "SKU-1" in problems[0][2]
    assert "Google" in mapper.shared_gtins.summary() and "4006381333931: SKU-1, SKU-2" in mapper.shared_gtins.summary()


def test_shared_gtin_memory_and_report_are_capped() -> None:
    shared = SharedGtins()
    for group in range(50):
        for n in range(20):
            shared.seen_on(f"{group:013d}", f"item-{group}-{n}")

    assert len(shared.groups) == 50 and shared.items == 1000
    assert len(shared.examples) == EXAMPLE_GROUPS and all(len(ids) == EXAMPLE_GROUPS for _, ids in shared.examples.values())
    assert shared.summary().startswith("50 GTINs are each on several items (1000 items)")


@pytest.mark.django_db
def test_build_and_dry_run_report_shared_gtins_with_the_items(feed_storage_dir) -> None:
    make_product(gtin="4006381333931", variants=3)
    make_product(gtin="4006381333932")  # wrong check digit
    feed = make_feed()

    build = build_feed(feed)
    preview = dry_run(feed)

    shared = build.reasons["shared_gtin"]
    assert shared["count"] == 2 and len(shared["examples"]) == 2
    assert shared["message"].startswith("1 GTINs are each on several items (3 items)")
    assert build.reasons["gtin_check_digit"]["count"] == 1
    assert preview.tally.reasons["shared_gtin"]["message"] == shared["message"]
    items = parse_items(build, "xml")
    assert sum(1 for item in items if item.get("gtin") == "4006381333931") == 3
    assert not any(item.get("gtin") == "4006381333932" for item in items)


@pytest.mark.django_db
def test_variants_mapping_their_own_gtin_share_none(feed_storage_dir) -> None:
    from shop_demo.store.models import Variant

    product = make_product(gtin="4006381333931", variants=3)
    for variant, gtin in zip(product.variants.order_by("pk"), ("96385074", "036000291452", ""), strict=True):
        Variant.objects.filter(pk=variant.pk).update(gtin=gtin)

    build = build_feed(make_feed())

    assert "shared_gtin" not in build.reasons
    assert sorted(item.get("gtin") for item in parse_items(build, "xml")) == ["036000291452", "4006381333931", "96385074"]


@pytest.mark.django_db
def test_the_demo_store_gives_variants_their_own_valid_gtins(feed_storage_dir) -> None:
    from shop_demo.store.seed import seed_store

    seed_store(products=30, customers=1)
    gtins = [r.gtin for chunk in get_catalog().iter_chunks() for r in chunk if r.gtin]

    assert len(gtins) > 10 and len(set(gtins)) == len(gtins)
    assert all(gtin_check_digit_ok(g) for g in gtins)
    reasons = dry_run(make_feed()).tally.reasons
    assert "shared_gtin" not in reasons and "gtin_check_digit" not in reasons
