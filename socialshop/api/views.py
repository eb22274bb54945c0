"""The API's own pages: the API root (with links to the schema and docs), the OpenAPI schema and the
Swagger UI documentation, served from drf-spectacular-sidecar's static files (no CDN). Routes: ``api/urls.py``.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any

from django.apps import apps
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView
from rest_framework import permissions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import APIRootView

from socialshop import __version__

SIDECAR_APP = "drf_spectacular_sidecar"


def _api_base(request: HttpRequest, page: str) -> str:
    """The path where the project mounts the API, from the URL of one of its pages (``schema/``, ``docs/``)."""
    return request.path.rsplit(page, 1)[0]


class SchemaView(SpectacularAPIView):
    """The OpenAPI schema of socialshop's API only, with no host setting needed."""

    schema = None  # the schema view itself is not an endpoint of the API
    urlconf = "socialshop.api.urls"  # paths are relative to where the project mounts the API
    permission_classes = [permissions.AllowAny]

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        base = request.build_absolute_uri(_api_base(request, "schema/")).rstrip("/")
        self.custom_settings = {
            "TITLE": "socialshop API", "VERSION": __version__, "SERVERS": [{"url": base}],
            "DESCRIPTION": "Authenticate with HTTP Basic (or the admin's session). Every operation needs the "
                           "Django model permission for its action; public reads need no credentials.",
            # Separate request/response components: uploads (binary) and read-only fields differ.
            "COMPONENT_SPLIT_REQUEST": True,
        }
        return super().get(request, *args, **kwargs)


def docs(request: HttpRequest) -> HttpResponse:
    """Swagger UI over ``schema/``; its scripts and styles are drf-spectacular-sidecar's static files."""
    if not apps.is_installed(SIDECAR_APP):
        return HttpResponse(f"The API docs need '{SIDECAR_APP}' in INSTALLED_APPS (see the README's API "
                            "section); the schema is at ../schema/.", status=503, content_type="text/plain")
    header = settings.CSRF_HEADER_NAME.removeprefix("HTTP_").replace("_", "-")
    config = {"schemaUrl": _api_base(request, "docs/") + "schema/", "csrfHeader": header, "csrfToken": get_token(request)}
    return render(request, "socialshop/api/docs.html", {"config": config})


@csrf_exempt  # a write to an unknown path is a 404, as for the resources (DRF views are exempt too)
def not_found(request: HttpRequest, path: str = "") -> JsonResponse:
    """Any other path under the API: a JSON 404 like the resources' own, not the site's HTML page."""
    return JsonResponse({"detail": "Not found."}, status=404)


class RootView(APIRootView):
    """The router's list of resources, plus the schema and its documentation page."""

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().get(request, *args, **kwargs)
        base = request.build_absolute_uri(request.path)
        response.data = OrderedDict([*response.data.items(), ("schema", base + "schema/"), ("docs", base + "docs/")])
        return response
