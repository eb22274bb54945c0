"""Building feeds: publish, keyset chunks with constant queries, the guard, failures, concurrency."""
from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.storage import storages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from lxml import etree

from socialshop.exceptions import JobLocked
from socialshop.core.jobs import single_flight
from socialshop.feeds.builder import build_feed, dry_run
from socialshop.feeds.models import BuildStatus, Feed
from tests.feeds.conftest import make_feed, make_product

pytestmark = pytest.mark.django_db
G = "{http://base.google.com/ns/1.0}"


def _ids_in(build) -> list[str]:  # type: ignore[no-untyped-def]
    with storages["default"].open(build.file_name, "rb") as handle:
        root = etree.fromstring(handle.read(), etree.XMLParser(recover=False, resolve_entities=False))
    return [el.text for el in root.iter(f"{G}id")]


def test_build_publishes_every_valid_product_and_variant(feed_storage_dir):
    plain = make_product(name="Plain mug")
    shirt = make_product(name="Shirt", variants=3)
    feed = make_feed("google", "xml")

    build = build_feed(feed)

    feed.refresh_from_db()
    assert build.status == BuildStatus.PUBLISHED, build.message
    assert feed.published_build_id == build.pk
    assert build.items_written == 4 and build.items_skipped == 0
    ids = _ids_in(build)
    assert str(plain.pk) in ids
    assert {f"{shirt.slug}-v{n}" for n in range(3)} <= set(ids)


def test_iteration_costs_constant_queries_per_chunk(feed_storage_dir, settings):
    settings.SOCIALSHOP = {**settings.SOCIALSHOP,
                           "CATALOG_OPTIONS": {**settings.SOCIALSHOP["CATALOG_OPTIONS"], "chunk_size": 5}}
    for n in range(40):  # chunks differ in variants and images; the query count must not
        make_product(variants=n % 4, images=1 + n % 3)
    feed = make_feed()
    marks: list[int] = []

    with CaptureQueriesContext(connection) as ctx:
        build = build_feed(feed, progress=lambda read, written: marks.append(len(ctx.captured_queries)), force=True)

    assert build.status == BuildStatus.PUBLISHED, build.message
    assert len(marks) == 8
    per_chunk = {b - a for a, b in zip(marks, marks[1:])}
    assert len(per_chunk) == 1 and per_chunk.pop() <= 6
    keyset = [q["sql"] for q in ctx.captured_queries if "store_product" in q["sql"] and "LIMIT 5" in q["sql"]]
    assert keyset and not any("OFFSET" in sql for sql in keyset)


def test_product_deleted_while_the_build_runs_is_simply_absent(feed_storage_dir, settings):
    from shop_demo.store.models import Product

    settings.SOCIALSHOP = {**settings.SOCIALSHOP,
                           "CATALOG_OPTIONS": {**settings.SOCIALSHOP["CATALOG_OPTIONS"], "chunk_size": 2}}
    products = [make_product() for _ in range(6)]
    doomed = products[-1]
    feed = make_feed()
    seen = []

    def delete_after_first_chunk(read: int, written: int) -> None:
        seen.append(read)
        if len(seen) == 1:
            Product.objects.filter(pk=doomed.pk).delete()

    build = build_feed(feed, progress=delete_after_first_chunk, force=True)

    assert build.status == BuildStatus.PUBLISHED, build.message
    assert build.items_written == 5
    assert str(doomed.pk) not in _ids_in(build)
    assert seen[0] == 2


def test_a_second_build_of_the_same_feed_at_once_is_refused_and_the_live_file_kept(feed_storage_dir):
    make_product()
    feed = make_feed()
    first = build_feed(feed)

    with single_flight(f"socialshop.build_feed:{feed.pk}"):
        with pytest.raises(JobLocked):
            build_feed(feed)

    feed.refresh_from_db()
    assert feed.published_build_id == first.pk
    assert _ids_in(first)


def test_publish_guard_refuses_an_empty_build_and_says_so(feed_storage_dir):
    from shop_demo.store.models import Product

    make_product()
    feed = make_feed()
    live = build_feed(feed)
    Product.objects.all().delete()

    refused = build_feed(feed)

    feed.refresh_from_db()
    assert refused.status == BuildStatus.REFUSED
    assert "no items" in refused.message
    assert feed.published_build_id == live.pk
    assert _ids_in(live)


def test_force_never_publishes_an_empty_build_only_allow_empty_does(feed_storage_dir):
    from shop_demo.store.models import Product

    make_product()
    feed = make_feed()
    live = build_feed(feed)
    Product.objects.all().delete()

    forced = build_feed(feed, force=True)
    feed.refresh_from_db()
    assert forced.status == BuildStatus.REFUSED and "--allow-empty" in forced.message
    assert feed.published_build_id == live.pk

    emptied = build_feed(feed, allow_empty=True)
    feed.refresh_from_db()
    assert emptied.status == BuildStatus.PUBLISHED and emptied.items_written == 0
    assert feed.published_build_id == emptied.pk and _ids_in(emptied) == []


def test_publish_guard_refuses_under_half_of_the_last_build_unless_forced(feed_storage_dir, settings):
    from shop_demo.store.models import Product

    for _ in range(10):
        make_product()
    feed = make_feed()
    live = build_feed(feed)
    Product.objects.filter(pk__in=list(Product.objects.values_list("pk", flat=True)[:6])).delete()

    refused = build_feed(feed)
    assert refused.status == BuildStatus.REFUSED
    assert "4 items is under 50% of the live build's 10" in refused.message
    feed.refresh_from_db()
    assert feed.published_build_id == live.pk

    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "FEED_PUBLISH_MIN_RATIO": 0.3}
    accepted = build_feed(feed)
    assert accepted.status == BuildStatus.PUBLISHED
    forced = build_feed(feed, force=True)
    assert forced.status == BuildStatus.UNCHANGED


def test_storage_write_failure_keeps_the_previous_file_served(feed_storage_dir, settings, client, tmp_path):
    from tests.feeds.storages import FlakyStorage

    settings.STORAGES = {**settings.STORAGES, "feeds": {
        "BACKEND": "tests.feeds.storages.FlakyStorage", "OPTIONS": {"location": str(tmp_path / "feeds")}}}
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "FEED_STORAGE": "feeds"}
    first = make_product(name="First")
    feed = make_feed()
    live = build_feed(feed)
    assert live.status == BuildStatus.PUBLISHED
    make_product(name="Second")

    FlakyStorage.failing = True
    try:
        failed = build_feed(feed)
    finally:
        FlakyStorage.failing = False

    assert failed.status == BuildStatus.FAILED
    assert "No space left on device" in failed.message
    feed.refresh_from_db()
    assert feed.published_build_id == live.pk
    response = client.get(f"/socialshop/feeds/{feed.slug}.xml", {"token": feed.token})
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert b"First" in body and b"Second" not in body
    assert sorted(p.name for p in (tmp_path / "feeds").rglob("*.xml")) == [live.file_name.rsplit("/", 1)[-1]]


def test_old_files_are_pruned_keeping_the_live_and_previous_one(feed_storage_dir):
    feed = make_feed()
    builds = []
    for n in range(4):
        make_product(name=f"Item {n}")
        builds.append(build_feed(feed))
    files = sorted(p.name for p in feed_storage_dir.rglob("*.xml"))
    assert len(files) == 2
    for build in builds[:2]:
        build.refresh_from_db()
        assert build.file_name == ""


def test_odd_named_store_builds_through_settings_only(feed_storage_dir, odd_catalog):
    from tests.factories import ArticleFactory, FlavourFactory
    from tests.store.models import Picture

    article = ArticleFactory(article_code="ART9", headline="Kettle", list_amount=Decimal("30.00"), maker__label="Brewco",
                             section_trail="Home > Kitchen")
    Picture.objects.create(article=article, source="/media/kettle.jpg")
    Picture.objects.create(article=article, source="https://cdn.example.com/kettle-2.jpg")
    small = FlavourFactory(article=article, dimension="S", hue="Red", units=0)
    FlavourFactory(article=article, dimension="L", hue="Red", units=3)
    feed = make_feed("google", "xml", custom_labels=[{"rule": "static", "value": "autumn"}])

    build = build_feed(feed)

    from tests.feeds.conftest import parse_items
    items = {i["id"]: i for i in parse_items(build)}
    item = items[f"ART9-{small.pk}"]
    assert item["item_group_id"] == "ART9"
    assert item["availability"] == "out_of_stock"
    assert item["size"] == "S" and item["color"] == "Red" and item["brand"] == "Brewco"
    assert item["product_type"] == "Home > Kitchen"
    assert item["link"] == "http://testserver/articles/ART9/?utm_source=google&utm_medium=product_feed&utm_campaign=google-xml"
    assert item["image_link"] == "http://testserver/media/kettle.jpg"
    assert item["additional_image_link"] == "https://cdn.example.com/kettle-2.jpg"
    assert item["custom_label_0"] == "autumn"
    assert len(items) == 2


def test_dry_run_lists_excluded_products_with_reasons_and_writes_nothing(feed_storage_dir):
    kept = make_product(price=Decimal("50"))
    cheap = make_product(price=Decimal("5"))
    imageless = make_product(images=0, price=Decimal("50"))
    excluded = make_product(price=Decimal("50"))
    feed = make_feed(min_price=Decimal("10"), excluded_ids=[str(excluded.pk)])

    result = dry_run(feed)

    reasons = {row["id"]: row["code"] for row in result.excluded}
    assert reasons == {str(cheap.pk): "below_min_price", str(imageless.pk): "missing_image",
                       str(excluded.pk): "excluded_by_feed"}
    assert result.tally.written == 1 and result.tally.skipped == 3
    assert not list(feed_storage_dir.rglob("*.xml")) if feed_storage_dir.exists() else True
    assert str(kept.pk) not in reasons


@pytest.mark.postgres
def test_build_on_postgresql_publishes_and_reads_events(feed_storage_dir):
    from datetime import timedelta

    from django.utils import timezone

    from socialshop.tracking.reads import content_id_counts
    from socialshop.tracking.models import Event

    product = make_product(name="Löffel & Gabel 🍴", variants=2)
    now = timezone.now()
    Event.objects.create(event_id="e1", name="Purchase", occurred_at=now, received_at=now,
                         content_ids=[f"{product.slug}-v0", f"{product.slug}-v1"])
    Event.objects.create(event_id="e2", name="Purchase", occurred_at=now - timedelta(days=90), received_at=now,
                         content_ids=[f"{product.slug}-v0"])
    feed = make_feed(custom_labels=[{"rule": "best_seller", "days": 30, "top": 1, "value": "best"}])

    build = build_feed(feed)

    from tests.feeds.conftest import parse_items
    assert connection.vendor == "postgresql"
    assert build.status == BuildStatus.PUBLISHED, build.message
    items = {i["id"]: i for i in parse_items(build)}
    assert items[f"{product.slug}-v0"]["title"] == "Löffel & Gabel 🍴"
    assert content_id_counts(since=now - timedelta(days=30)) == {f"{product.slug}-v0": 1, f"{product.slug}-v1": 1}
    assert items[f"{product.slug}-v0"]["custom_label_0"] == "best"


def test_build_history_is_capped_but_keeps_the_live_build(feed_storage_dir):
    from socialshop.feeds.publishing import prune_history

    make_product()
    feed = make_feed()
    live = build_feed(feed)
    for _ in range(4):
        build_feed(feed)

    removed = prune_history(feed, keep=2)

    assert removed == 2
    assert feed.builds.count() == 3 and feed.builds.filter(pk=live.pk).exists()


def test_overlapping_builds_after_a_lock_expiry_still_serve_a_complete_file(feed_storage_dir, settings, client):
    import time

    from tests.feeds.conftest import parse_items

    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "JOB_LOCK_SECONDS": 1,
                           "CATALOG_OPTIONS": {**settings.SOCIALSHOP["CATALOG_OPTIONS"], "chunk_size": 2}}
    for n in range(6):
        make_product(name=f"Thing {n}")
    feed = make_feed()
    inner = []

    def second_build_midway(read: int, written: int) -> None:
        if not inner:
            time.sleep(1.1)  # the first build's lock expires, as if its worker hung
            inner.append(build_feed(Feed.objects.get(pk=feed.pk)))

    outer = build_feed(feed, progress=second_build_midway)

    assert inner[0].status == BuildStatus.PUBLISHED and outer.status == BuildStatus.UNCHANGED
    feed.refresh_from_db()
    response = client.get(f"/socialshop/feeds/{feed.slug}.xml", {"token": feed.token})
    assert response.status_code == 200
    assert len(parse_items(feed.published_build)) == 6


def test_feed_ids_are_exactly_the_ids_the_tag_gets_from_the_catalog(feed_storage_dir):
    from socialshop.catalog import get_catalog

    plain = make_product()
    shirt = make_product(variants=2)
    build = build_feed(make_feed("tiktok", "csv"))

    from tests.feeds.conftest import parse_items
    feed_ids = {row["sku_id"] for row in parse_items(build, "csv")}
    catalog = get_catalog()
    tag_ids = {*catalog.ids_for(plain), *catalog.ids_for(shirt)}
    assert feed_ids == tag_ids
    assert catalog.ids_for(shirt.variants.first()) == [f"{shirt.slug}-v0"]


def test_deleting_a_feed_removes_its_files(feed_storage_dir):
    make_product()
    feed = make_feed()
    build_feed(feed)
    assert list(feed_storage_dir.rglob("*.xml"))

    feed.delete()

    assert not list(feed_storage_dir.rglob("*.xml"))
