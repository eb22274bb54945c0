"""API resource ``feeds``: feed settings, the live build, build history, build now, dry run.

Every action needs its Django permission (``api/base.py``); the feed's secret token (and the URL that
carries it) is shown only to users who may change feeds.
"""
from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field, inline_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from socialshop.api.base import SocialshopAPIMixin, may
from socialshop.api.schema import document
from socialshop.core.jobs import ran_in_process, run_task
from socialshop.feeds.builder import dry_run
from socialshop.feeds.models import BuildStatus, Feed, FeedBuild

SECRET_FIELDS = ("token", "url")


class ReasonSerializer(serializers.Serializer):
    """One skip/warning reason of a build or a dry run."""

    code = serializers.CharField()
    severity = serializers.CharField()
    message = serializers.CharField()
    count = serializers.IntegerField()
    examples = serializers.ListField(child=serializers.CharField(), help_text="Example catalog ids.")


class FeedBuildSerializer(serializers.ModelSerializer):
    top_reasons = serializers.SerializerMethodField(help_text="Most frequent skip/warning reasons with example ids.")

    class Meta:
        model = FeedBuild
        fields = ("id", "status", "started_at", "finished_at", "items_seen", "items_written", "items_skipped",
                  "items_warned", "size_bytes", "content_hash", "message", "top_reasons")
        read_only_fields = fields

    @extend_schema_field(ReasonSerializer(many=True))
    def get_top_reasons(self, build: FeedBuild) -> list[dict[str, Any]]:
        return build.top_reasons(10)


class FeedSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text="Full feed URL with its token, to give the platform. "
                                                      "Only for users who may change feeds.")
    categories = serializers.ListField(child=serializers.CharField(), required=False,
                                       help_text=Feed._meta.get_field("categories").help_text)
    excluded_ids = serializers.ListField(child=serializers.CharField(), required=False,
                                         help_text=Feed._meta.get_field("excluded_ids").help_text)
    custom_labels = serializers.ListField(child=serializers.DictField(), required=False, max_length=5,
                                          help_text=Feed._meta.get_field("custom_labels").help_text)
    live_build = FeedBuildSerializer(source="published_build", read_only=True, allow_null=True,
                                     help_text="The build the feed URL serves; null before the first publish.")

    class Meta:
        model = Feed
        fields = ("id", "name", "slug", "platform", "file_format", "enabled", "url", "target_country", "language",
                  "currency", "categories", "in_stock_only", "min_price", "max_price", "excluded_ids", "custom_labels",
                  "utm_source", "utm_medium", "utm_campaign", "images", "max_additional_images", "default_brand",
                  "shipping_price", "google_product_category", "build_interval_minutes", "token", "live_build",
                  "created_at", "updated_at")
        read_only_fields = ("url", "live_build", "created_at", "updated_at")
        extra_kwargs = {"token": {"required": False, "help_text": "Secret the platform sends as ?token=. "
                                                                  "Only shown to users who may change feeds."}}
        optional_in_response = SECRET_FIELDS  # read by api/schema.py

    def get_url(self, feed: Feed) -> str:
        return feed.url()

    def to_representation(self, instance: Feed) -> dict[str, Any]:
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is None or not may(request, "socialshop.change_feed"):
            for name in SECRET_FIELDS:
                data.pop(name, None)
        return data

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        from django.core.exceptions import ValidationError as DjangoValidationError

        candidate = Feed(**{**({f.name: getattr(self.instance, f.name) for f in Feed._meta.concrete_fields}
                               if self.instance else {}), **attrs})
        try:
            candidate.clean()
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
        return attrs


class BuildRequestSerializer(serializers.Serializer):
    force = serializers.BooleanField(default=False, help_text="Publish even if the feed shrank (never an empty one).")
    allow_empty = serializers.BooleanField(
        default=False, help_text="Also publish a build with no items (an empty feed deletes every product on the platform).")


BUILD_RESULT = inline_serializer("FeedBuildResult", {
    "feed": serializers.CharField(help_text="The feed's slug."),
    "status": serializers.ChoiceField(
        choices=["queued", "missing", "already_running", *BuildStatus.values],
        help_text="queued: a worker will build it (see task); otherwise the finished build's status."),
    "task": serializers.CharField(required=False, help_text="Celery task id, when queued."),
    "build": serializers.IntegerField(required=False, help_text="The build's id, when it ran in process."),
    "written": serializers.IntegerField(required=False),
    "skipped": serializers.IntegerField(required=False),
    "warnings": serializers.IntegerField(required=False),
    "message": serializers.CharField(required=False, allow_blank=True),
})


class ExcludedSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="Catalog id.")
    title = serializers.CharField()
    severity = serializers.CharField()
    code = serializers.CharField()
    message = serializers.CharField()


DRY_RUN_RESULT = inline_serializer("FeedDryRun", {
    "seen": serializers.IntegerField(),
    "written": serializers.IntegerField(),
    "skipped": serializers.IntegerField(),
    "warned": serializers.IntegerField(),
    "reasons": serializers.DictField(child=serializers.DictField(), help_text="{code: {severity, message, count, examples}}"),
    "excluded": ExcludedSerializer(many=True, help_text="Products the feed would leave out (at most 500)."),
    "truncated": serializers.BooleanField(help_text="True when more products were left out than listed."),
})


class FeedViewSet(SocialshopAPIMixin, viewsets.ModelViewSet):
    """Product feeds. ``POST /feeds/{id}/build/`` builds now; ``GET /feeds/{id}/builds/`` is the history;
    ``GET /feeds/{id}/dry_run/`` lists the products the feed would leave out, and why."""

    queryset = Feed.objects.select_related("published_build").order_by("name")
    serializer_class = FeedSerializer
    action_permissions = {
        "build": ("socialshop.build_feed",),
        "builds": ("socialshop.view_feed",),
        "dry_run": ("socialshop.view_feed",),
    }

    @document(request=BuildRequestSerializer, responses={202: BUILD_RESULT})
    @action(detail=True, methods=["post"])
    def build(self, request: Request, pk: str | None = None) -> Response:
        from socialshop.tasks import build_feed as build_feed_task

        feed = self.get_object()
        params = BuildRequestSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        result = run_task(build_feed_task, feed.slug, params.validated_data["force"], params.validated_data["allow_empty"])
        body = result.result if ran_in_process(result) else {"feed": feed.slug, "status": "queued", "task": result.id}
        return Response(body, status=status.HTTP_202_ACCEPTED)

    @document(responses=FeedBuildSerializer(many=True))
    @action(detail=True, methods=["get"])
    def builds(self, request: Request, pk: str | None = None) -> Response:
        feed = self.get_object()
        return Response(FeedBuildSerializer(feed.builds.order_by("-started_at", "-pk")[:50], many=True).data)

    @document(responses=DRY_RUN_RESULT)
    @action(detail=True, methods=["get"])
    def dry_run(self, request: Request, pk: str | None = None) -> Response:
        result = dry_run(self.get_object(), limit=500)
        tally = result.tally
        return Response({"seen": tally.seen, "written": tally.written, "skipped": tally.skipped, "warned": tally.warned,
                         "reasons": tally.reasons, "excluded": result.excluded, "truncated": result.truncated})
