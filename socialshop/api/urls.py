"""API routes: one router, one resource per concern, and the OpenAPI schema."""
from __future__ import annotations

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter

router = DefaultRouter()
# Each domain's viewset is registered here, one line per resource (plural names).

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("", include(router.urls)),
]
