"""Template context for every store page: top categories and the cart size."""
from __future__ import annotations

from django.http import HttpRequest

from shop_demo.store.models import Category


def store(request: HttpRequest) -> dict:
    cart = request.session.get("cart", {}) if hasattr(request, "session") else {}
    return {
        "top_categories": Category.objects.filter(parent__isnull=True),
        "cart_count": sum(int(q) for q in cart.values()),
    }
