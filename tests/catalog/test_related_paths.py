"""Category paths (and other fields) through a related model's property or method, e.g.
``shelf__trail``, with nothing added to the host's product model and no query per product."""
from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from socialshop.catalog import ModelCatalog, get_catalog
from socialshop.catalog.checks import check_catalog
from socialshop.exceptions import CatalogError
from tests.factories import ArticleFactory, FlavourFactory
from tests.store.models import Shelf

pytestmark = pytest.mark.django_db


@pytest.fixture
def shelf_catalog(settings: Any) -> None:
    options = {**settings.ODD_STORE_CATALOG}
    options["fields"] = {**options["fields"], "category_path": "shelf__trail", "google_product_category": "shelf__label"}
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "CATALOG_OPTIONS": options}


def test_category_path_reads_a_property_of_the_related_model(shelf_catalog: None) -> None:
    shelf = Shelf.objects.create(department="Kitchen", label="Teapots")
    ArticleFactory(article_code="T1", shelf=shelf)
    ArticleFactory(article_code="T2", shelf=None)
    records = {r.id: r for r in get_catalog().iter_records()}
    assert records["T1"].category_path == ("Kitchen", "Teapots")
    assert records["T1"].google_product_category == "Teapots"
    assert records["T2"].category_path == ()
    assert get_catalog().get_records(["T1"])["T1"].category_path == ("Kitchen", "Teapots")


def test_a_related_method_works_like_a_property(settings: Any) -> None:
    ArticleFactory(article_code="M1", shelf=Shelf.objects.create(department="Garden", label="Pots"))
    catalog = ModelCatalog(model="teststore.Article", fields={
        "id": "article_code", "title": "headline", "price": "list_amount", "url": "storefront_path",
        "category_path": "shelf__crumbs",
    })
    assert catalog.get_records(["M1"])["M1"].category_path == ("Garden", "Pots")


def test_variants_inherit_the_related_category(shelf_catalog: None) -> None:
    article = ArticleFactory(article_code="V1", shelf=Shelf.objects.create(department="Tea", label="Cups"))
    FlavourFactory(article=article)
    FlavourFactory(article=article)
    records = list(get_catalog().iter_records())
    assert len(records) == 2 and {r.category_path for r in records} == {("Tea", "Cups")}


def test_related_property_costs_the_same_queries_however_many_products(shelf_catalog: None) -> None:
    def queries_for(n: int) -> int:
        for i in range(n):
            ArticleFactory(shelf=Shelf.objects.create(department=f"D{i}", label=f"L{i}"))
        catalog = get_catalog()
        with CaptureQueriesContext(connection) as ctx:
            records = [r for chunk in catalog.iter_chunks(chunk_size=10_000) for r in chunk]
        assert all(r.category_path for r in records)
        return len(ctx.captured_queries)

    few = queries_for(3)
    many = queries_for(80)
    assert few == many  # products, pictures, variants, shelf keys, shelves, then the empty page


def test_the_check_accepts_a_related_property_and_names_a_missing_one(settings: Any, shelf_catalog: None) -> None:
    assert check_catalog() == []
    call_command("check", "socialshop", stdout=open("/dev/null", "w"))
    options = {**settings.SOCIALSHOP["CATALOG_OPTIONS"]}
    options["fields"] = {**options["fields"], "category_path": "shelf__trial"}
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "CATALOG_OPTIONS": options}
    [error] = check_catalog()
    assert "['category_path'] = 'shelf__trial'" in error.msg and "Shelf has no field or attribute 'trial'" in error.msg


def test_a_related_property_cannot_be_the_id_or_reached_through_a_to_many_relation() -> None:
    with pytest.raises(CatalogError, match="not a to-many relation"):
        ModelCatalog(model="teststore.Shelf", fields={"title": "articles__storefront_path"})
    catalog = ModelCatalog(model="teststore.Article", fields={"id": "shelf__trail", "title": "headline"})
    with pytest.raises(CatalogError, match="must name a model field"):
        catalog.get_records(["x"])
