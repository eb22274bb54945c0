"""Template context for every store page: top categories (with children) and the cart size."""
from __future__ import annotations

from django.http import HttpRequest

from shop_demo.store.checkout import cart_count
from shop_demo.store.models import Category


def store(request: HttpRequest) -> dict:
    return {
        "top_categories": Category.objects.filter(parent__isnull=True).order_by("pk").prefetch_related("children"),
        "cart_count": cart_count(request) if hasattr(request, "session") else 0,
    }
