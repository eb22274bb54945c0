"""factory_boy factories for the host stores used in tests (demo store and the odd-named test store)."""
from __future__ import annotations

from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from shop_demo.store import models as demo
from tests.store import models as odd


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"customer{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = demo.Category

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = demo.Product

    name = factory.Sequence(lambda n: f"Product {n}")
    slug = factory.Sequence(lambda n: f"product-{n}")
    category = factory.SubFactory(CategoryFactory)
    description = "A fine product."
    brand = "Acme"
    price = Decimal("20.00")


class VariantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = demo.Variant

    product = factory.SubFactory(ProductFactory)
    sku = factory.Sequence(lambda n: f"SKU-{n}")
    size = "M"
    color = "Blue"
    stock = 5


class MakerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = odd.Maker

    label = factory.Sequence(lambda n: f"Maker {n}")


class ArticleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = odd.Article

    article_code = factory.Sequence(lambda n: f"ART{n:05d}")
    headline = factory.Sequence(lambda n: f"Article {n}")
    blurb = "Odd but sellable."
    maker = factory.SubFactory(MakerFactory)
    list_amount = Decimal("15.00")
    section_trail = "Home > Kitchen"


class FlavourFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = odd.Flavour

    article = factory.SubFactory(ArticleFactory)
    dimension = "L"
    hue = "Green"
    units = 2
