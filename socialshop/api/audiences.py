"""API resource ``audiences``: each audience's rule (kind, params, lookback, include/exclude), its size,
build history, upload state per platform, build now and sync now.

Every action needs its Django permission (``api/base.py``); building needs ``socialshop.build_audience``,
syncing change permission. Members are never listed: no person, hash or visitor id leaves through here.
Rule parameters are checked by ``audiences/forms.py`` ``validate_params``, as in admin.
"""
from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Count, Prefetch, Q
from drf_spectacular.utils import extend_schema_field, inline_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from socialshop.api.base import SocialshopAPIMixin
from socialshop.api.schema import document
from socialshop.audiences.forms import validate_params
from socialshop.audiences.models import Audience, AudienceBuild, BuildStatus, Destination
from socialshop.core.jobs import ran_in_process, run_task
from socialshop.platforms import REGISTRY, configured_platforms

HISTORY = 50  # builds returned by /builds/


class AudienceBuildSerializer(serializers.ModelSerializer):
    class Meta:
        model = AudienceBuild
        fields = ("id", "status", "started_at", "finished_at", "size", "added", "removed", "error")
        read_only_fields = fields


class DestinationSerializer(serializers.ModelSerializer):
    uploaded = serializers.IntegerField(source="uploaded_count", read_only=True, help_text="Members on the platform's list, as far as socialshop sent.")
    unmatched = serializers.IntegerField(source="unmatched_count", read_only=True, help_text="Members skipped: no identifier this platform takes.")
    last_result = serializers.DictField(read_only=True, help_text=Destination._meta.get_field("last_result").help_text)

    class Meta:
        model = Destination
        fields = ("platform", "remote_id", "twin_id", "lookalike_id", "state", "last_sync_at", "synced_until",
                  "last_result", "uploaded", "unmatched")
        read_only_fields = fields


class AudienceSerializer(serializers.ModelSerializer):
    params = serializers.DictField(required=False, help_text=Audience._meta.get_field("params").help_text)
    include = serializers.PrimaryKeyRelatedField(many=True, required=False, queryset=Audience.objects.all(),
                                                 help_text=Audience._meta.get_field("include").help_text)
    exclude = serializers.PrimaryKeyRelatedField(many=True, required=False, queryset=Audience.objects.all(),
                                                 help_text=Audience._meta.get_field("exclude").help_text)
    last_build = serializers.SerializerMethodField(help_text="The latest build; null before the first.")

    class Meta:
        model = Audience
        fields = ("id", "name", "slug", "kind", "params", "lookback_days", "include", "exclude", "exclude_purchasers_days",
                  "enabled", "rebuild_every_minutes", "size", "last_built_at", "last_build", "created_at", "updated_at")
        read_only_fields = ("size", "last_built_at", "last_build", "created_at", "updated_at")
        extra_kwargs = {"lookback_days": {"min_value": 1, "max_value": 3650},
                        "exclude_purchasers_days": {"min_value": 1, "max_value": 3650},
                        "rebuild_every_minutes": {"min_value": 5, "max_value": 60 * 24 * 30}}

    @extend_schema_field(AudienceBuildSerializer(allow_null=True))
    def get_last_build(self, audience: Audience) -> dict[str, Any] | None:
        builds = getattr(audience, "latest_builds", None)
        if builds is None:
            builds = list(audience.builds.order_by("-started_at", "-pk")[:1])
        return AudienceBuildSerializer(builds[0]).data if builds else None

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        current = self.instance
        kind = attrs.get("kind", current.kind if current else None)
        lookback = attrs.get("lookback_days", current.lookback_days if current else 30)
        params = attrs.get("params", current.params if current else {})
        if "kind" in attrs and "params" not in attrs and current and attrs["kind"] != current.kind:
            params = {}  # a new kind starts from its defaults
        try:
            attrs["params"] = validate_params(kind, params, lookback_days=lookback)
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"params" if key != "kind" else key: messages
                                               for key, messages in exc.message_dict.items()}) from None
        if current is not None:
            for name in ("include", "exclude"):
                if any(other.pk == current.pk for other in attrs.get(name) or ()):
                    raise serializers.ValidationError({name: ["An audience cannot include or exclude itself."]})
        return attrs


class BuildResultSerializer(serializers.Serializer):
    audience = serializers.CharField(help_text="The audience's slug.")
    status = serializers.ChoiceField(choices=["queued", "missing", "already running", *BuildStatus.values],
                                     help_text="queued: a worker will build it (see task); otherwise the build's outcome.")
    task = serializers.CharField(required=False, help_text="Celery task id, when queued.")
    size = serializers.IntegerField(required=False)
    added = serializers.IntegerField(required=False)
    removed = serializers.IntegerField(required=False)
    error = serializers.CharField(required=False, allow_blank=True)


class SyncRequestSerializer(serializers.Serializer):
    platform = serializers.ChoiceField(choices=sorted(REGISTRY), required=False, allow_null=True,
                                       help_text="Only this platform; default every platform with audience uploads set up.")


SYNC_RESULT = inline_serializer("AudienceSyncResult", {
    "status": serializers.ChoiceField(choices=["queued", "synced", "already running", "missing"]),
    "task": serializers.CharField(required=False, help_text="Celery task id, when queued."),
    "results": inline_serializer("AudienceSyncPlatform", {
        "platform": serializers.CharField(), "state": serializers.CharField(),
        "adds": serializers.IntegerField(help_text="Additions queued by this sync."),
        "removes": serializers.IntegerField(help_text="Removals queued by this sync."),
    }, many=True, required=False),
})


class AudienceViewSet(SocialshopAPIMixin, viewsets.ModelViewSet):
    """Retargeting audiences. ``POST /audiences/{id}/build/`` rebuilds now; ``GET /audiences/{id}/builds/`` is the
    history; ``GET /audiences/{id}/destinations/`` the upload state per platform; ``POST /audiences/{id}/sync/`` uploads now."""

    queryset = Audience.objects.prefetch_related(
        "include", "exclude", Prefetch("builds", queryset=AudienceBuild.objects.order_by("-started_at", "-pk")[:1],
                                       to_attr="latest_builds")).order_by("name")
    serializer_class = AudienceSerializer
    action_permissions = {
        "build": ("socialshop.build_audience",),
        "builds": ("socialshop.view_audience",),
        "destinations": ("socialshop.view_audience",),
        "sync": ("socialshop.change_audience",),
    }

    @document(request=None, responses={202: BuildResultSerializer})
    @action(detail=True, methods=["post"])
    def build(self, request: Request, pk: str | None = None) -> Response:
        from socialshop.tasks import build_audience as build_task

        audience = self.get_object()
        result = run_task(build_task, audience.slug)
        if not ran_in_process(result):
            return Response({"audience": audience.slug, "status": "queued", "task": result.id}, status=status.HTTP_202_ACCEPTED)
        outcome = dict(result.result)
        body = {"audience": outcome.pop("slug", audience.slug), **{k: v for k, v in outcome.items() if k in BuildResultSerializer().fields}}
        return Response(body, status=status.HTTP_202_ACCEPTED)

    @document(responses=AudienceBuildSerializer(many=True))
    @action(detail=True, methods=["get"])
    def builds(self, request: Request, pk: str | None = None) -> Response:
        audience = self.get_object()
        return Response(AudienceBuildSerializer(audience.builds.order_by("-started_at", "-pk")[:HISTORY], many=True).data)

    @document(responses=DestinationSerializer(many=True))
    @action(detail=True, methods=["get"])
    def destinations(self, request: Request, pk: str | None = None) -> Response:
        audience = self.get_object()
        rows = audience.destinations.order_by("platform").annotate(
            uploaded_count=Count("uploaded", filter=Q(uploaded__matched=True)),
            unmatched_count=Count("uploaded", filter=Q(uploaded__matched=False)))
        return Response(DestinationSerializer(rows, many=True).data)

    @document(request=SyncRequestSerializer, responses={202: SYNC_RESULT})
    @action(detail=True, methods=["post"])
    def sync(self, request: Request, pk: str | None = None) -> Response:
        from socialshop.tasks import sync_audiences as sync_task

        audience = self.get_object()
        params = SyncRequestSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        platform = params.validated_data.get("platform")
        ready = configured_platforms("audiences")
        if platform and platform not in ready or not ready:
            raise serializers.ValidationError({"platform": [
                f"{platform or 'no platform'} has no audience uploads set up: add its ad account to SOCIALSHOP['PLATFORMS'] "
                "(docs/audiences.md)"]})
        result = run_task(sync_task, platform, audience.slug)
        body = result.result if ran_in_process(result) else {"status": "queued", "task": result.id}
        return Response(body, status=status.HTTP_202_ACCEPTED)
