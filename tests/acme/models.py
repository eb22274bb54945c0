"""The queue of Acme's product-updates capability: one ``OutboxRow`` per product change to announce."""
from __future__ import annotations

from django.db import models

from socialshop.platforms.models import OutboxRow


class ProductUpdate(OutboxRow):
    """A product whose change Acme should hear about (sent by the delivery engine, keyed by product id)."""

    product_id = models.CharField(max_length=64)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["product_id", "platform"], name="acme_update_once")]
