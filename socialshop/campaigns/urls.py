"""Campaign URLs (included by ``socialshop/urls.py``): the landing link and the email unsubscribe page."""
from django.urls import path

from socialshop.campaigns import views

urlpatterns = [
    path("c/<slug:slug>/", views.landing, name="campaign-landing"),
    path("unsubscribe/<str:token>/", views.unsubscribe_page, name="unsubscribe"),
    path("e/o/<str:token>.gif", views.email_open, name="email-open"),
]
