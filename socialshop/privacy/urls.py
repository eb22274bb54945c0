"""Privacy URLs (included by ``socialshop/urls.py``): the privacy page, the opt-out of retargeting and the consent API."""
from django.urls import path

from socialshop.privacy import views

urlpatterns = [
    path("privacy/", views.privacy_page, name="privacy"),
    path("privacy/consent/", views.consent_api, name="consent"),
    path("privacy/opt-out/", views.opt_out, name="privacy-optout"),
]
