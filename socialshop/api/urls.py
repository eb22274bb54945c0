"""API routes: one router, one resource per concern, and the OpenAPI schema."""
from __future__ import annotations

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter

from socialshop import __version__
from socialshop.api.feeds import FeedViewSet
from socialshop.api.posts import PostTagViewSet, PostViewSet



class SchemaView(SpectacularAPIView):
    """The OpenAPI schema of socialshop's API only, with no host setting needed."""

    schema = None  # the schema view itself is not an endpoint of the API
    urlconf = "socialshop.api.urls"  # paths are relative to where the project mounts the API

    def get(self, request, *args, **kwargs):  # type: ignore[no-untyped-def]
        base = request.build_absolute_uri(request.path.rsplit("schema/", 1)[0]).rstrip("/")
        self.custom_settings = {"TITLE": "socialshop API", "VERSION": __version__, "SERVERS": [{"url": base}]}
        return super().get(request, *args, **kwargs)


router = DefaultRouter()
# Each domain's viewset is registered here, one line per resource (plural names).
router.register("posts", PostViewSet, basename="posts")
router.register("post-tags", PostTagViewSet, basename="post-tags")
router.register("feeds", FeedViewSet, basename="feeds")

urlpatterns = [
    path("schema/", SchemaView.as_view(), name="api-schema"),
    path("", include(router.urls)),
]
