"""A host store with deliberately odd field names: socialshop must plug in with settings only."""
from __future__ import annotations

from django.db import models


class Maker(models.Model):
    label = models.CharField(max_length=70)


class Shelf(models.Model):
    """A storefront section whose breadcrumb is a property, not a column (category paths through a relation)."""

    department = models.CharField(max_length=60)
    label = models.CharField(max_length=60)

    @property
    def trail(self) -> str:
        return f"{self.department} > {self.label}"

    def crumbs(self) -> list[str]:
        return [self.department, self.label]


class Article(models.Model):
    article_code = models.CharField(max_length=40, unique=True)
    headline = models.CharField(max_length=300)
    blurb = models.TextField(blank=True)
    maker = models.ForeignKey(Maker, null=True, blank=True, on_delete=models.SET_NULL)
    barcode = models.CharField(max_length=14, blank=True)
    list_amount = models.DecimalField(max_digits=10, decimal_places=2, null=True)
    promo_amount = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    section_trail = models.CharField(max_length=200, blank=True)
    on_hand = models.IntegerField(default=1)
    sellable = models.BooleanField(default=True)
    shelf = models.ForeignKey(Shelf, null=True, blank=True, on_delete=models.SET_NULL, related_name="articles")

    @property
    def storefront_path(self) -> str:
        return f"/articles/{self.article_code}/"


class Picture(models.Model):
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="pictures")
    source = models.CharField(max_length=300)

    class Meta:
        ordering = ["pk"]


class Flavour(models.Model):
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="flavours")
    dimension = models.CharField(max_length=20, blank=True)
    hue = models.CharField(max_length=40, blank=True)
    own_amount = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    units = models.IntegerField(default=0)
