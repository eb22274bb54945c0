"""API resource ``feeds`` (staff only): feed settings, the live build, build history, build now, dry run."""
from __future__ import annotations

from typing import Any

from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from socialshop.api.base import SocialshopAPIMixin, StaffOnly
from socialshop.core.jobs import run_task
from socialshop.feeds.builder import dry_run
from socialshop.feeds.models import Feed, FeedBuild


class FeedBuildSerializer(serializers.ModelSerializer):
    top_reasons = serializers.SerializerMethodField(help_text="Most frequent skip/warning reasons with example ids.")

    class Meta:
        model = FeedBuild
        fields = ("id", "status", "started_at", "finished_at", "items_seen", "items_written", "items_skipped",
                  "items_warned", "size_bytes", "content_hash", "message", "top_reasons")
        read_only_fields = fields

    def get_top_reasons(self, build: FeedBuild) -> list[dict[str, Any]]:
        return build.top_reasons(10)


class FeedSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text="Full feed URL with its token, to give the platform.")
    live_build = FeedBuildSerializer(source="published_build", read_only=True)

    class Meta:
        model = Feed
        fields = ("id", "name", "slug", "platform", "file_format", "enabled", "url", "target_country", "language",
                  "currency", "categories", "in_stock_only", "min_price", "max_price", "excluded_ids", "custom_labels",
                  "utm_source", "utm_medium", "utm_campaign", "images", "max_additional_images", "default_brand",
                  "shipping_price", "google_product_category", "build_interval_minutes", "token", "live_build",
                  "created_at", "updated_at")
        read_only_fields = ("url", "live_build", "created_at", "updated_at")
        extra_kwargs = {"token": {"required": False}}

    def get_url(self, feed: Feed) -> str:
        return feed.url()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        from django.core.exceptions import ValidationError as DjangoValidationError

        candidate = Feed(**{**({f.name: getattr(self.instance, f.name) for f in Feed._meta.concrete_fields}
                               if self.instance else {}), **attrs})
        try:
            candidate.clean()
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
        return attrs


class FeedViewSet(SocialshopAPIMixin, viewsets.ModelViewSet):
    """Product feeds. ``POST /feeds/{id}/build/`` builds now; ``GET /feeds/{id}/builds/`` is the history;
    ``GET /feeds/{id}/dry_run/`` lists the products the feed would leave out, and why."""

    queryset = Feed.objects.select_related("published_build").order_by("name")
    serializer_class = FeedSerializer
    permission_classes = [StaffOnly]

    @action(detail=True, methods=["post"])
    def build(self, request: Request, pk: str | None = None) -> Response:
        from socialshop.tasks import build_feed as build_feed_task

        feed = self.get_object()
        # "false" must not publish an empty feed: parse the flag as DRF parses booleans (400 otherwise).
        allow_empty = serializers.BooleanField().run_validation(request.data.get("allow_empty", False))
        result = run_task(build_feed_task, feed.slug, bool(request.data.get("force", False)), allow_empty)
        body = result.result if result.ready() else {"feed": feed.slug, "status": "queued", "task": result.id}
        return Response(body, status=status.HTTP_202_ACCEPTED)

    @action(detail=True, methods=["get"])
    def builds(self, request: Request, pk: str | None = None) -> Response:
        feed = self.get_object()
        return Response(FeedBuildSerializer(feed.builds.order_by("-started_at", "-pk")[:50], many=True).data)

    @action(detail=True, methods=["get"])
    def dry_run(self, request: Request, pk: str | None = None) -> Response:
        result = dry_run(self.get_object(), limit=500)
        tally = result.tally
        return Response({"seen": tally.seen, "written": tally.written, "skipped": tally.skipped, "warned": tally.warned,
                         "reasons": tally.reasons, "excluded": result.excluded, "truncated": result.truncated})
