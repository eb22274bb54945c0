"""Every bad input the issue lists: the build keeps going, output parses strictly, reasons are kept."""
from __future__ import annotations

from decimal import Decimal

import pytest

from socialshop.catalog import Catalog, ProductRecord
from socialshop.feeds.builder import build_feed
from socialshop.feeds.models import BuildStatus
from tests.factories import ArticleFactory
from tests.feeds.conftest import make_feed, make_product, parse_items, read_feed_file
from tests.store.models import Picture

pytestmark = pytest.mark.django_db


def _build_one(platform: str = "google", file_format: str = "xml", **feed_fields):  # type: ignore[no-untyped-def]
    feed = make_feed(platform, file_format, **feed_fields)
    build = build_feed(feed, force=True)
    assert build.status in (BuildStatus.PUBLISHED, BuildStatus.UNCHANGED), build.message
    return build, {item["id" if platform != "tiktok" else "sku_id"]: item for item in parse_items(build, file_format)}


@pytest.mark.parametrize("file_format", ["xml", "tsv"])
def test_control_characters_are_removed_and_the_file_parses_strictly(feed_storage_dir, file_format):
    from django.db import connection

    nul = "" if connection.vendor == "postgresql" else "\x00"  # PostgreSQL text cannot hold NUL at all
    product = make_product(name=f"Bell\x07 {nul}jar\x1b", description="Line\x0bone\x0c\x08 two end\ufffe")

    build, items = _build_one("google", file_format)

    item = items[str(product.pk)]
    assert item["title"] == "Bell jar"
    assert item["description"] == "Lineone two end"


def test_cdata_terminator_is_escaped_not_emitted(feed_storage_dir):
    product = make_product(name="Brackets ]]> and more", description="x ]]><![CDATA[ y")

    build, items = _build_one()

    assert items[str(product.pk)]["title"] == "Brackets ]]> and more"
    assert b"]]>" not in read_feed_file(build)
    assert items[str(product.pk)]["description"] == "x ]]><![CDATA[ y"


@pytest.mark.parametrize("file_format", ["xml", "tsv"])
def test_ampersands_round_trip(feed_storage_dir, file_format):
    product = make_product(name="Salt & Pepper", description="Fish &amp; chips & peas")

    build, items = _build_one("google", file_format)

    assert items[str(product.pk)]["title"] == "Salt & Pepper"
    assert items[str(product.pk)]["description"] == "Fish & chips & peas"


def test_script_tags_are_dropped_and_never_become_markup(feed_storage_dir):
    from tests.feeds.conftest import read_feed_file

    product = make_product(name="<script>alert(1)</script>Mug", description="Nice <script>steal()</script><b>mug</b>")

    build, items = _build_one()

    assert items[str(product.pk)]["title"] == "Mug"
    assert items[str(product.pk)]["description"] == "Nice mug"
    assert b"<script" not in read_feed_file(build)


def test_emoji_survive_for_google_and_are_removed_from_tiktok_titles(feed_storage_dir):
    product = make_product(name="Party hat 🎉🥳", description="Fun 🎈 for all")

    _, google = _build_one("google")
    build, tiktok = _build_one("tiktok", "csv")

    assert google[str(product.pk)]["title"] == "Party hat 🎉🥳"
    assert tiktok[str(product.pk)]["title"] == "Party hat"
    assert tiktok[str(product.pk)]["description"] == "Fun 🎈 for all"
    assert build.reasons["emoji_removed"]["examples"] == [str(product.pk)]


@pytest.mark.parametrize("file_format", ["xml", "csv"])
def test_right_to_left_text_round_trips_unchanged(feed_storage_dir, file_format):
    product = make_product(name="\u05e1\u05e4\u05e8 \u05d8\u05d5\u05d1", description="\u0643\u062a\u0627\u0628 \u062c\u064a\u062f \u200fhere")

    _, items = _build_one("meta", file_format)

    assert items[str(product.pk)]["title"] == "\u05e1\u05e4\u05e8 \u05d8\u05d5\u05d1"
    assert items[str(product.pk)]["description"] == "\u0643\u062a\u0627\u0628 \u062c\u064a\u062f \u200fhere"


def test_50000_character_description_is_cut_at_a_word_boundary_to_each_limit(feed_storage_dir):
    words = ("lorem ipsum dolor sit amet " * 2000)[:50000]
    product = make_product(description=words)

    build, google = _build_one("google")
    _, meta = _build_one("meta", "csv")

    google_text = google[str(product.pk)]["description"]
    meta_text = meta[str(product.pk)]["description"]
    assert 4900 < len(google_text) <= 5000 and 9900 < len(meta_text) <= 9999
    for text in (google_text, meta_text):
        assert words.startswith(text) and words[len(text)] == " "
    assert build.reasons["description_shortened"]["severity"] == "warning"
    assert build.items_warned == 1 and build.items_written == 1


def test_missing_price_leaves_the_item_out_with_a_reason(feed_storage_dir, odd_catalog):
    priced = ArticleFactory(article_code="PRICED", list_amount=Decimal("9.99"))
    unpriced = ArticleFactory(article_code="NOPRICE", list_amount=None)
    for article in (priced, unpriced):
        Picture.objects.create(article=article, source=f"/media/{article.article_code}.jpg")

    build, items = _build_one()

    assert set(items) == {"PRICED"}
    assert items["PRICED"]["price"] == "9.99 USD"
    assert build.reasons["missing_price"]["examples"] == ["NOPRICE"]
    assert build.items_skipped == 1


def test_zero_and_negative_prices_leave_items_out(feed_storage_dir):
    good = make_product(price=Decimal("5"))
    zero = make_product(price=Decimal("0"))
    negative = make_product(price=Decimal("-3.00"))

    build, items = _build_one()

    assert set(items) == {str(good.pk)}
    assert items[str(good.pk)]["price"] == "5.00 USD"
    assert build.reasons["zero_price"]["examples"] == [str(zero.pk)]
    assert build.reasons["negative_price"]["examples"] == [str(negative.pk)]


def test_missing_image_leaves_the_item_out(feed_storage_dir):
    shown = make_product()
    hidden = make_product(images=0)

    build, items = _build_one("pinterest", "tsv")

    assert set(items) == {str(shown.pk)}
    assert build.reasons["missing_image"] == {
        "severity": "error", "message": "the product has no absolute image URL", "count": 1, "examples": [str(hidden.pk)],
    }


def test_missing_brand_and_gtin_sends_identifier_exists_no_to_google_and_skips_for_meta(feed_storage_dir):
    branded = make_product(brand="Acme", gtin="4006381333931")
    anonymous = make_product(brand="", gtin="", mpn="")

    _, google = _build_one("google")
    meta_build, meta = _build_one("meta", "xml", slug="meta-x")

    assert google[str(anonymous.pk)]["identifier_exists"] == "no"
    assert "identifier_exists" not in google[str(branded.pk)]
    assert google[str(branded.pk)]["gtin"] == "4006381333931"
    assert set(meta) == {str(branded.pk)}
    assert meta_build.reasons["missing_identifier"]["examples"] == [str(anonymous.pk)]


def test_feed_default_brand_stands_in_for_own_label_goods(feed_storage_dir):
    own = make_product(brand="", gtin="")

    _, meta = _build_one("meta", "csv", default_brand="Our Shop")

    assert meta[str(own.pk)]["brand"] == "Our Shop"


def test_clean_text_removes_lone_surrogates_and_non_characters():
    from socialshop.feeds.items import clean_text

    assert clean_text("a\ud800b\udfff c\uffff\ufffe") == "ab c"


class SloppyCatalog(Catalog):
    """A custom adapter with the usual mistakes: a category path as one string, float prices, relative links."""

    RECORDS = (
        ProductRecord(id="A", title="Lamp", description="A lamp.", url="https://shop.example/a", price=Decimal("20"), currency="USD",
                      image_urls=("https://shop.example/a.jpg",), brand="Acme", category_path="Home > Lighting"),
        ProductRecord(id="B", title="Vase", description="A vase.", url="https://shop.example/b", price=19.99, currency="USD",
                      image_urls=("https://shop.example/b.jpg",), brand="Acme"),
        ProductRecord(id="C", title="Rug", description="A rug.", url="/p/c/", price=Decimal("90"), currency="USD",
                      image_urls=("https://shop.example/c.jpg",), brand="Acme"),
        ProductRecord(id="D", title="Mug", description="A mug.", url="https://shop.example/d", price=Decimal("9"), currency="USD",
                      sale_price=7.5, image_urls="https://shop.example/d.jpg", brand="Acme"),
        ProductRecord(id="E", title="Bowl", description="A bowl.", url="https://shop.example/e", price=Decimal("12"), currency="USD",
                      image_urls=("/media/e.jpg",), brand="Acme"),
    )

    def iter_chunks(self, *, chunk_size: int | None = None, after: str | None = None):  # type: ignore[no-untyped-def]
        yield list(self.RECORDS)

    def get_records(self, ids):  # type: ignore[no-untyped-def]
        return {r.id: r for r in self.RECORDS if r.id in ids}

    def ids_for(self, obj):  # type: ignore[no-untyped-def]
        return [str(obj)]


def _sloppy_catalog(settings):  # type: ignore[no-untyped-def]
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "CATALOG": "tests.feeds.test_bad_input.SloppyCatalog", "CATALOG_OPTIONS": {}}


def test_a_custom_adapters_wrong_types_get_a_reason_per_item(feed_storage_dir, settings):
    _sloppy_catalog(settings)

    build, items = _build_one()

    reasons = build.reasons
    assert set(items) == {"A", "D"}
    assert "product_type" not in items["A"] and reasons["category_path_is_string"]["examples"] == ["A"]
    assert reasons["price_not_decimal"]["examples"] == ["B"] and "Decimal" in reasons["price_not_decimal"]["message"]
    assert reasons["link_not_absolute"]["examples"] == ["C"] and "'/p/c/'" in reasons["link_not_absolute"]["message"]
    assert reasons["sale_price_not_decimal"]["examples"] == ["D"] and "sale_price" not in items["D"]
    assert items["D"]["image_link"] == "https://shop.example/d.jpg"  # one string is one URL, not its characters
    assert reasons["image_not_absolute"]["examples"] == ["E"] and reasons["image_not_absolute"]["severity"] == "error"
    assert build.items_skipped == 3
