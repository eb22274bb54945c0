"""Tracking URLs (included by ``socialshop/urls.py``): tag script, collector, no-JS pixel."""
from django.urls import path

from socialshop.tracking import views

urlpatterns = [
    path("tag.js", views.tag_js, name="tag_js"),
    path("collect/", views.collect_view, name="collect"),
    path("pixel.gif", views.pixel_view, name="pixel"),
]
