"""Staff-only audience URLs, included from ``socialshop/urls.py`` under ``staff/``.

``/socialshop/staff/audiences/<slug>/export/<platform>.csv``: the hashed export (audiences/views.py).
"""
from django.urls import path

from socialshop.audiences import views

urlpatterns = [
    path("audiences/<slug:slug>/export/<slug:platform>.csv", views.export_audience, name="audience-export"),
]
