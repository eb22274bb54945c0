"""Campaign URLs (included by ``socialshop/urls.py``): the landing link."""
from django.urls import path

from socialshop.campaigns import views

urlpatterns = [
    path("c/<slug:slug>/", views.landing, name="campaign-landing"),
]
