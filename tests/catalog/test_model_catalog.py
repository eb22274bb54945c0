"""ModelCatalog over a store with odd field names, configured with settings only."""
from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from socialshop.catalog import Availability, ModelCatalog, get_catalog
from socialshop.catalog.model_catalog import normalise_availability
from socialshop.exceptions import CatalogError
from tests.factories import ArticleFactory, FlavourFactory, ProductFactory, VariantFactory
from tests.store.models import Picture

pytestmark = pytest.mark.django_db


def test_plain_article_becomes_one_record_with_mapped_fields(odd_catalog):
    article = ArticleFactory(article_code="ART1", headline="Teapot", list_amount=Decimal("31.50"),
                             promo_amount=Decimal("25.00"), barcode="4006381333931", maker__label="Kettle Co")
    Picture.objects.create(article=article, source="/media/teapot.jpg")
    Picture.objects.create(article=article, source="https://cdn.example.com/teapot-2.jpg")

    [record] = list(get_catalog().iter_records())

    assert record.id == "ART1"
    assert record.item_group_id == ""
    assert record.title == "Teapot"
    assert record.price == Decimal("31.50") and record.sale_price == Decimal("25.00")
    assert record.brand == "Kettle Co" and record.gtin == "4006381333931"
    assert record.category_path == ("Home", "Kitchen")
    assert record.url == "http://testserver/articles/ART1/"
    assert record.image_urls == ("http://testserver/media/teapot.jpg", "https://cdn.example.com/teapot-2.jpg")
    assert record.currency == "USD"


def test_variants_become_records_sharing_the_group_id(odd_catalog):
    article = ArticleFactory(article_code="ART2", list_amount=Decimal("10.00"))
    small = FlavourFactory(article=article, dimension="S", hue="Red", units=0)
    large = FlavourFactory(article=article, dimension="L", hue="Red", units=4, own_amount=Decimal("12.00"))

    records = {r.id: r for r in get_catalog().iter_records()}

    assert set(records) == {f"ART2-{small.pk}", f"ART2-{large.pk}"}
    assert {r.item_group_id for r in records.values()} == {"ART2"}
    assert records[f"ART2-{small.pk}"].availability == Availability.OUT_OF_STOCK
    assert records[f"ART2-{small.pk}"].price == Decimal("10.00")
    assert records[f"ART2-{large.pk}"].price == Decimal("12.00")
    assert records[f"ART2-{large.pk}"].size == "L"


def test_variant_mappings_beyond_plain_columns_read_the_same_records(settings):
    # A variant mapping of plain columns is written straight into records; one with a URL template
    # goes through the general path. Both must give the same values for the shared fields.
    article = ArticleFactory(article_code="ART9", list_amount=Decimal("10.00"))
    FlavourFactory(article=article, dimension="S", hue="Red", units=0)
    FlavourFactory(article=article, dimension="L", hue="", units=3, own_amount=Decimal("12.00"))
    plain = settings.ODD_STORE_CATALOG
    templated = {**plain, "variants": {**plain["variants"], "fields": {**plain["variants"]["fields"], "url": "/f/{dimension}/"}}}

    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "CATALOG_OPTIONS": plain, "SITE_URL": "https://shop.example"}
    first = sorted(get_catalog().iter_records(), key=lambda r: r.size)
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "CATALOG_OPTIONS": templated}
    second = sorted(get_catalog().iter_records(), key=lambda r: r.size)

    assert [(r.size, r.color, r.price, r.availability) for r in first] == [
        ("L", "", Decimal("12.00"), Availability.IN_STOCK), ("S", "Red", Decimal("10.00"), Availability.OUT_OF_STOCK)]
    assert [r._replace(url="") for r in first] == [r._replace(url="") for r in second]
    assert [r.url for r in first] == ["https://shop.example/articles/ART9/"] * 2
    assert [r.url for r in second] == ["https://shop.example/f/L/", "https://shop.example/f/S/"]


def test_unsellable_articles_are_filtered_out(odd_catalog):
    ArticleFactory(article_code="KEEP")
    ArticleFactory(article_code="HIDE", sellable=False)
    assert [r.id for r in get_catalog().iter_records()] == ["KEEP"]


def test_a_filtered_out_product_inside_a_chunk_lends_no_variants_or_pictures(odd_catalog):
    # Chunks read variants and pictures by pk range; an unsellable product in the middle of the
    # range must not leak its rows into its neighbours' records or its own.
    first, hidden, last = (ArticleFactory(article_code=code, sellable=code != "HIDE") for code in ("A1", "HIDE", "A3"))
    for article in (first, hidden, last):
        FlavourFactory(article=article, dimension="S")
        Picture.objects.create(article=article, source=f"/p/{article.article_code}.jpg")

    records = [r for chunk in get_catalog().iter_chunks(chunk_size=10) for r in chunk]

    assert {r.item_group_id for r in records} == {"A1", "A3"}
    assert all("HIDE" not in url for r in records for url in r.image_urls)
    assert [len(r.image_urls) for r in records] == [1, 1]


def test_iteration_costs_the_same_queries_per_chunk_however_many_products(odd_catalog):
    def queries_for(n: int) -> int:
        for i in range(n):
            article = ArticleFactory()
            FlavourFactory(article=article)
            Picture.objects.create(article=article, source=f"/p/{i}.jpg")
        catalog = get_catalog()
        with CaptureQueriesContext(connection) as ctx:
            chunks = list(catalog.iter_chunks(chunk_size=10_000))
        assert sum(len(c) for c in chunks) > 0
        return len(ctx.captured_queries)

    few = queries_for(3)
    many = queries_for(60)
    assert few == many  # one chunk either way: products, variants, pictures, then the empty page


def test_keyset_chunks_cover_every_record_once(odd_catalog):
    codes = {ArticleFactory().article_code for _ in range(25)}
    chunks = list(get_catalog().iter_chunks(chunk_size=7))
    assert [len(c) for c in chunks] == [7, 7, 7, 4]
    assert {r.id for c in chunks for r in c} == codes


def test_get_records_fetches_products_and_variants_by_id_and_ignores_unknown(odd_catalog):
    plain = ArticleFactory(article_code="PLAIN")
    grouped = ArticleFactory(article_code="GRP")
    flavour = FlavourFactory(article=grouped)
    found = get_catalog().get_records(["PLAIN", f"GRP-{flavour.pk}", "NOPE", f"GRP-999999"])
    assert set(found) == {"PLAIN", f"GRP-{flavour.pk}"}
    assert found["PLAIN"].title == plain.headline


def test_ids_for_host_objects_match_the_feed_ids(odd_catalog):
    grouped = ArticleFactory(article_code="G1")
    a, b = FlavourFactory(article=grouped), FlavourFactory(article=grouped)
    catalog = get_catalog()
    feed_ids = {r.id for r in catalog.iter_records()}
    assert set(catalog.ids_for(grouped)) == feed_ids == {f"G1-{a.pk}", f"G1-{b.pk}"}
    assert catalog.ids_for(b) == [f"G1-{b.pk}"]
    with pytest.raises(CatalogError, match="neither"):
        catalog.ids_for(object())


def test_demo_store_mapping_uses_variant_skus_as_ids():
    variant = VariantFactory(sku="TEE-RED-M", product=ProductFactory(name="Tee"))
    catalog = get_catalog()
    assert catalog.ids_for(variant.product) == ["TEE-RED-M"]
    assert catalog.get_records(["TEE-RED-M"])["TEE-RED-M"].item_group_id == str(variant.product.pk)
    assert [r.id for r in catalog.search("tee")] == ["TEE-RED-M"]
    assert catalog.count() == 1


def test_unknown_model_is_a_catalog_error():
    with pytest.raises(CatalogError, match="nope.Thing"):
        ModelCatalog(model="nope.Thing", fields={})


def test_mapping_to_a_missing_field_names_it():
    with pytest.raises(CatalogError, match="no field or attribute 'nme'"):
        ModelCatalog(model="teststore.Article", fields={"title": "nme"})


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(True, "in_stock"), (False, "out_of_stock"), ("in stock", "in_stock"), ("Out Of Stock", "out_of_stock"),
     ("available for order", "backorder"), ("preorder", "preorder"), ("sometimes", "")],
)
def test_availability_spellings_are_normalised(raw, expected):
    assert normalise_availability(raw) == expected


def test_mapping_a_name_that_is_not_a_record_field_is_refused():
    with pytest.raises(CatalogError, match="colour: not product record fields"):
        ModelCatalog(model="teststore.Article", fields={"title": "headline", "colour": "headline"})


def test_a_mapping_through_two_to_many_relations_is_refused():
    with pytest.raises(CatalogError, match="only one to-many relation"):
        ModelCatalog(model="store.Category", fields={"title": "products__images__image"})


def test_a_url_template_builds_links_from_columns_without_instances(settings):
    options = {**settings.ODD_STORE_CATALOG}
    options["fields"] = {**options["fields"], "url": "/shop/{maker__label}/{article_code}/"}
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "CATALOG_OPTIONS": options}
    ArticleFactory(article_code="T1", maker__label="Kettle")
    with CaptureQueriesContext(connection) as with_template:
        [record] = list(get_catalog().iter_records())
    assert record.url == "http://testserver/shop/Kettle/T1/"
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "CATALOG_OPTIONS": settings.ODD_STORE_CATALOG}
    with CaptureQueriesContext(connection) as with_property:
        list(get_catalog().iter_records())
    # the property mapping ("storefront_path") needs model instances: one more query per chunk
    assert len(with_template.captured_queries) == len(with_property.captured_queries) - 1


@pytest.mark.parametrize("template", ["/p/{nope}/", "/p/{slug", "/p/{pictures__source}/"])
def test_a_url_template_naming_a_missing_or_to_many_field_is_refused(template):
    with pytest.raises(CatalogError):
        ModelCatalog(model="teststore.Article", fields={"url": template})


@pytest.mark.parametrize("name", ["products/a b.jpg", "products/ünï côdé.png", "products/x%y#z.jpg"])
def test_image_urls_match_what_the_storage_itself_builds(name):
    from django.core.files.storage import default_storage

    from socialshop.catalog.paths import PathPlan, converter

    images = converter("image_urls", PathPlan(path="images__image", segments=(), kind="many", storage=default_storage))
    assert images([name]) == (default_storage.url(name),)
