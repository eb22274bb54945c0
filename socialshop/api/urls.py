"""API routes: one router, one resource per concern, the OpenAPI schema and its documentation page."""
from __future__ import annotations

from django.urls import include, path, re_path
from rest_framework.routers import DefaultRouter

from socialshop.api.audiences import AudienceViewSet
from socialshop.api.campaigns import CampaignViewSet, VariantViewSet
from socialshop.api.feeds import FeedViewSet
from socialshop.api.posts import PostTagViewSet, PostViewSet
from socialshop.api.views import RootView, SchemaView, docs, not_found


class Router(DefaultRouter):
    APIRootView = RootView


router = Router()
# Each domain's viewset is registered here, one line per resource (plural names).
router.register("posts", PostViewSet, basename="posts")
router.register("post-tags", PostTagViewSet, basename="post-tags")
router.register("feeds", FeedViewSet, basename="feeds")
router.register("audiences", AudienceViewSet, basename="audiences")
router.register("campaigns", CampaignViewSet, basename="campaigns")
router.register("campaign-variants", VariantViewSet, basename="campaign-variants")

urlpatterns = [
    path("schema/", SchemaView.as_view(), name="api-schema"),
    path("docs/", docs, name="api-docs"),
    path("", include(router.urls)),
    # Last: unknown paths and malformed ids get a JSON 404 (ending in "/", so APPEND_SLASH still redirects).
    re_path(r"^(?P<path>.*/)$", not_found),
]
