"""Feed URLs, included from ``socialshop/urls.py`` under ``feeds/``."""
from django.urls import re_path

from socialshop.feeds import views

urlpatterns = [
    re_path(r"^(?P<slug>[-a-zA-Z0-9_]+)\.(?P<ext>xml|csv|tsv)$", views.serve_feed, name="feed-file"),
]
