"""Storefront views."""
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from shop_demo.store.models import Category, Product


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "store/home.html", {"products": Product.objects.filter(is_active=True)[:24]})


def category(request: HttpRequest, slug: str) -> HttpResponse:
    cat = get_object_or_404(Category, slug=slug)
    return render(request, "store/category.html", {"category": cat, "products": cat.products.filter(is_active=True)})


def product(request: HttpRequest, slug: str) -> HttpResponse:
    obj = get_object_or_404(Product, slug=slug, is_active=True)
    return render(request, "store/product.html", {"product": obj})
