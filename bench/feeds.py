"""Feed build benchmark: the Google XML build against a raw serializer, in the same run.

Seeds the demo store with N catalogue items (products with 4 variants each, 2 images each) by
bulk_create in a throwaway test database (SQLite by default, PostgreSQL when DATABASE_URL is set),
then measures: items/s of ``build_feed`` vs a plain string-writing serializer over in-memory tuples of
the same fields (best of three runs each); queries per catalogue chunk at the small and the full size; tracemalloc peak of
the build at the small and the full size. The last line prints the ratios.

    python bench/feeds.py                  # 100,000 items, small size 10,000 (about 1-2 minutes)
    python bench/feeds.py --items 20000 --small 2000
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
import tracemalloc
from decimal import Decimal
from html import escape
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop_demo.settings")
os.environ["SHOP_DEMO_VAR"] = tempfile.mkdtemp(prefix="ss-bench-feeds-")
os.environ["DJANGO_DEBUG"] = "0"  # no query log: it would grow with the catalogue

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from shop_demo.store.models import Category, Product, ProductImage, Variant  # noqa: E402
from socialshop.catalog import get_catalog  # noqa: E402
from socialshop.feeds.builder import build_feed  # noqa: E402
from socialshop.feeds.items import INVALID_XML_CHARS  # noqa: E402
from socialshop.feeds.models import BuildStatus, Feed  # noqa: E402

VARIANTS = 4
SIZES = ("S", "M", "L", "XL")
COLORS = ("Red", "Blue", "Green", "Black")


def seed(start: int, stop: int, categories: list[Category]) -> None:
    """Products ``start..stop-1`` (each with VARIANTS variants and 2 images), by bulk_create."""
    now = timezone.now()
    batch = 2000
    for low in range(start, stop, batch):
        high = min(stop, low + batch)
        products = Product.objects.bulk_create([
            Product(
                name=f"Organic cotton shirt {n} & friends", slug=f"shirt-{n}", category=categories[n % len(categories)],
                description=f"Soft <b>organic</b> cotton shirt number {n}. Machine washable, fair trade, made to last. " * 2,
                brand="Acme" if n % 10 else "", gtin="" if n % 3 else "4006381333931", mpn=f"MPN-{n}",
                gender=("male", "female", "unisex")[n % 3], age_group="adult",
                price=Decimal("20.00") + n % 50, sale_price=Decimal("15.00") if n % 4 == 0 else None,
                created_at=now,
            )
            for n in range(low, high)
        ], batch_size=batch)
        if connection.vendor == "sqlite" or products[0].pk is None:
            pks = dict(Product.objects.filter(slug__in=[p.slug for p in products]).values_list("slug", "pk"))
            for p in products:
                p.pk = pks[p.slug]
        Variant.objects.bulk_create([
            Variant(product_id=p.pk, sku=f"{p.slug}-{v}", size=SIZES[v], color=COLORS[v], stock=(v + 1) % 4)
            for p in products for v in range(VARIANTS)
        ], batch_size=batch)
        ProductImage.objects.bulk_create([
            ProductImage(product_id=p.pk, image=f"products/{p.slug}-{i}.jpg", position=i) for p in products for i in range(2)
        ], batch_size=batch)


REPEATS = 3  # timed runs of the build and of the raw serializer; the best of each is compared

FIELDS = ("id", "item_group_id", "title", "description", "link", "image_link", "additional_image_link",
          "availability", "price", "sale_price", "condition", "brand", "gtin", "mpn", "google_product_category",
          "product_type", "color", "size", "gender", "age_group")


def tuples_from_catalog() -> list[tuple]:
    """The same fields the feed writes, as raw values (str, Decimal) in memory, outside the timing."""
    rows = []
    for r in get_catalog().iter_records():
        rows.append((
            r.id, r.item_group_id, r.title, r.description, r.url + "?utm_source=google",
            r.image_urls[0] if r.image_urls else "", r.image_urls[1] if len(r.image_urls) > 1 else "",
            r.availability, r.price, r.sale_price, r.condition, r.brand, r.gtin, r.mpn,
            r.google_product_category, " > ".join(r.category_path), r.color, r.size, r.gender, r.age_group,
            r.currency,
        ))
    return rows


CENT = Decimal("0.01")


def raw_serializer(rows: list[tuple], path: Path) -> float:
    """Seconds to write ``rows`` as Google RSS with plain string writes: the least any correct
    serializer does (XML-invalid characters removed, text escaped, prices formatted, UTF-8)."""
    started = time.perf_counter()
    invalid = INVALID_XML_CHARS.sub
    with open(path, "w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" xmlns:g="http://base.google.com/ns/1.0"><channel>\n')
        for row in rows:
            currency = row[-1]
            parts = ["<item>\n"]
            for name, value in zip(FIELDS, row):
                if value is None or value == "":
                    continue
                if isinstance(value, Decimal):
                    value = f"{value.quantize(CENT)} {currency}"
                parts.append(f"<g:{name}>{escape(invalid('', value), quote=False)}</g:{name}>\n")
            parts.append("</item>\n")
            out.write("".join(parts))
        out.write("</channel></rss>\n")
    return time.perf_counter() - started


def timed_build(feed: Feed) -> tuple[float, int, set[int]]:
    """(seconds, items written, the distinct query counts of full chunks after the first) of one build.

    A last, partial chunk is left out: Django splits ``in_bulk`` at SQLite's 999-parameter limit, so
    on SQLite a full chunk of 1000 products costs one query more than a short one.
    """
    marks: list[tuple[int, int]] = []
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        build = build_feed(feed, force=True, progress=lambda read, written: marks.append((read, len(queries.captured_queries))))
        seconds = time.perf_counter() - started
    if build.status not in (BuildStatus.PUBLISHED, BuildStatus.UNCHANGED):
        raise SystemExit(f"build failed: {build.status} {build.message}")
    full = VARIANTS * get_catalog().chunk_size
    return seconds, build.items_written, {q2 - q1 for (r1, q1), (r2, q2) in zip(marks, marks[1:]) if r2 - r1 == full}


def feed_stage(feed: Feed, path: Path) -> tuple[float, int]:
    """(seconds, items) spent mapping, checking and writing, timed per chunk while the catalogue is
    read as in a build (the reading itself is not timed): the build minus the catalogue read."""
    from socialshop.feeds.builder import _mapper, feed_columns
    from socialshop.feeds.specs import spec_for
    from socialshop.feeds.writers import Channel, writer_for

    mapper = _mapper(feed)
    seconds, items = 0.0, 0
    with open(path, "wb") as out:
        writer = writer_for(feed.file_format)(out, spec_for(feed.platform), columns=feed_columns(feed), channel=Channel("b", "", "b"))
        writer.open()
        for chunk in get_catalog().iter_chunks():
            started = time.perf_counter()
            mapper.new_chunk()
            for record in chunk:
                own, shared, _ = mapper.map_parts(record)
                if own is not None:
                    writer.write(own, shared)
                    items += 1
            seconds += time.perf_counter() - started
        started = time.perf_counter()
        writer.close()
        seconds += time.perf_counter() - started
    return seconds, items


def peak_memory(feed: Feed) -> int:
    tracemalloc.start()
    try:
        build_feed(feed, force=True)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=100_000, help="catalogue items (variants) at full size")
    parser.add_argument("--small", type=int, default=10_000, help="catalogue items at the small size")
    args = parser.parse_args()
    old_name = connection.settings_dict["NAME"]
    if connection.vendor == "sqlite":  # a file, like a real store, not an in-memory database
        connection.settings_dict.setdefault("TEST", {})["NAME"] = str(Path(os.environ["SHOP_DEMO_VAR"]) / "bench.sqlite3")
    test_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    print(f"database: {connection.vendor} ({test_name})")
    try:
        run(args)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def run(args: argparse.Namespace) -> None:
    categories = []
    for name in ("Women", "Men", "Kids", "Home", "Sale"):
        categories.append(Category.objects.create(name=name, slug=name.lower(), google_category="1604"))
    feed = Feed.objects.create(name="Bench", slug="bench", platform="google", file_format="xml",
                               custom_labels=[{"rule": "on_sale", "value": "sale"},
                                              {"rule": "price_band", "bands": [[0, 30, "budget"], [30, None, "premium"]]}])
    chunk = get_catalog().chunk_size
    small_products, full_products = args.small // VARIANTS, args.items // VARIANTS

    started = time.perf_counter()
    seed(0, small_products, categories)
    small_seconds, small_items, small_queries = timed_build(feed)
    small_peak = peak_memory(feed)
    seed(small_products, full_products, categories)
    print(f"seeded {full_products} products / {full_products * VARIANTS} items in {time.perf_counter() - started:.1f}s")

    # Best of REPEATS for both sides: the machine's noise only ever slows a run down.
    builds = [timed_build(feed) for _ in range(REPEATS)]
    seconds, items = min(b[0] for b in builds), builds[0][1]
    queries = set().union(*(b[2] for b in builds))
    full_peak = peak_memory(feed)
    rows = tuples_from_catalog()
    raw_seconds = min(raw_serializer(rows, Path(os.environ["SHOP_DEMO_VAR"]) / "raw.xml") for _ in range(REPEATS))
    del rows
    stage_seconds, stage_items = feed_stage(feed, Path(os.environ["SHOP_DEMO_VAR"]) / "stage.xml")

    build_rate, raw_rate = items / seconds, (full_products * VARIANTS) / raw_seconds
    small_chunks, full_chunks = math.ceil(small_products / chunk), math.ceil(full_products / chunk)
    print(f"small build: {small_items} items in {small_seconds:.2f}s, {small_chunks} chunks, queries per chunk {sorted(small_queries)}")
    print(f"full build:  {items} items in {seconds:.2f}s = {build_rate:,.0f} items/s, {full_chunks} chunks, "
          f"queries per chunk {sorted(queries)}")
    print(f"raw serializer (same fields, in-memory tuples): {raw_rate:,.0f} items/s")
    stage_rate = stage_items / stage_seconds
    print(f"feed stage alone (map, check, write already-read records): {stage_rate:,.0f} items/s; "
          f"catalogue read alone: {1 / max(1e-9, seconds / items - stage_seconds / stage_items):,.0f} items/s")
    print(f"peak memory: {small_peak / 1e6:.1f} MB at {small_items} items, {full_peak / 1e6:.1f} MB at {items} items")
    ratio, memory = build_rate / raw_rate, full_peak / small_peak
    constant = len(queries | small_queries) == 1
    per_chunk = "/".join(str(q) for q in sorted(queries | small_queries))
    ok = ratio >= 0.5 and memory <= 1.2 and constant
    print(f"{'PASS' if ok else 'FAIL'} feeds on {connection.vendor}: build/raw items/s ratio {ratio:.2f} (need >= 0.5), "
          f"peak memory {items // 1000}k/{small_items // 1000}k {memory:.2f} (need <= 1.20), "
          f"queries per chunk {per_chunk} ({'constant' if constant else 'NOT constant'}); "
          f"feed stage alone/raw {stage_rate / raw_rate:.2f}")


if __name__ == "__main__":
    main()
