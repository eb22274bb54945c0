"""Storefront URLs (the demo helper fills in views)."""
from django.urls import path

from shop_demo.store import views

app_name = "store"

urlpatterns = [
    path("", views.home, name="home"),
    path("c/<slug:slug>/", views.category, name="category"),
    path("p/<slug:slug>/", views.product, name="product"),
]
