"""API resources ``campaigns`` and ``campaign-variants``: campaign settings, their A/B variants, the
assignment counts per variant and hold-out with the sample-ratio check, members per state, refresh now,
and each member's product picks (``/campaigns/{id}/picks/?person=``).

Every action needs its Django permission (``api/base.py``). Targeting is campaigns/targeting.py.
"""
from __future__ import annotations

from typing import Any

from django.db.models import Count, ProtectedError
from drf_spectacular.utils import OpenApiParameter, extend_schema_field, inline_serializer
from rest_framework import pagination, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from socialshop.api.base import SocialshopAPIMixin
from socialshop.api.schema import ErrorSerializer, document
from socialshop.campaigns.activity import campaign_activity
from socialshop.campaigns.assignment import SRM_ALPHA, srm_p_value
from socialshop.campaigns.incentives import incentive_message
from socialshop.campaigns.models import (
    Assignment, Campaign, CampaignStatus, Creative, CreativeSize, IssuedCode, MemberPick, MemberState, PickReason, Variant,
)
from socialshop.campaigns.targeting import refresh_campaign, state_counts
from socialshop.exceptions import JobLocked


def _model_clean(model: type, instance: Any, attrs: dict[str, Any]) -> None:
    """Run the model's ``clean()`` on the instance as it would be saved; its errors become a 400."""
    from django.core.exceptions import ValidationError as DjangoValidationError

    current = {f.attname: getattr(instance, f.attname) for f in model._meta.concrete_fields} if instance else {}
    plain = {k: v for k, v in attrs.items() if not isinstance(v, list) or k in ("channels", "email_reminder_minutes")}
    candidate = model(**{**current, **plain})
    try:
        candidate.clean()
    except DjangoValidationError as exc:
        raise serializers.ValidationError(exc.message_dict) from None


class VariantSerializer(serializers.ModelSerializer):
    class Meta:
        model = Variant
        fields = ("id", "campaign", "name", "weight", "subject", "headline", "body", "incentive_from_message",
                  "created_at", "updated_at")
        read_only_fields = ("created_at", "updated_at")


class CampaignSerializer(serializers.ModelSerializer):
    channels = serializers.ListField(child=serializers.CharField(max_length=20), required=False, max_length=10,
                                     help_text=Campaign._meta.get_field("channels").help_text)
    effective_status = serializers.SerializerMethodField(help_text="The status now, after the start and end times.")
    incentive_message = serializers.SerializerMethodField(help_text="Why the campaign issues no codes; empty when it can.")
    variants = VariantSerializer(many=True, read_only=True)

    class Meta:
        model = Campaign
        fields = ("id", "name", "slug", "audiences", "exclusions", "channels", "starts_at", "ends_at", "status",
                  "effective_status", "min_delay_minutes", "max_age_hours", "email_per_day", "email_per_campaign",
                  "email_reminder_minutes", "max_landings_without_purchase", "holdout_percent", "incentive_kind", "incentive_amount",
                  "incentive_valid_days", "incentive_min_order", "incentive_currency", "incentive_message", "variants",
                  "picks_per_person", "product_sets", "last_refreshed_at", "created_at", "updated_at")
        read_only_fields = ("product_sets", "last_refreshed_at", "created_at", "updated_at")

    @extend_schema_field(serializers.ChoiceField(choices=CampaignStatus.values))
    def get_effective_status(self, campaign: Campaign) -> str:
        return campaign.effective_status()

    def get_incentive_message(self, campaign: Campaign) -> str:
        return incentive_message(campaign) if campaign.has_incentive else ""

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        _model_clean(Campaign, self.instance, attrs)
        return attrs


class ArmSerializer(serializers.Serializer):
    """One arm of the split: a variant, or the hold-out."""

    variant = serializers.IntegerField(allow_null=True, help_text="The variant's id; null for the hold-out.")
    name = serializers.CharField()
    assigned = serializers.IntegerField()
    expected_share = serializers.FloatField(help_text="The share the configured split gives this arm.")
    codes_issued = serializers.IntegerField()
    codes_redeemed = serializers.IntegerField()
    states = serializers.DictField(child=serializers.IntegerField(), help_text=f"This arm's members per state: {', '.join(MemberState.values)}.")
    emails_sent = serializers.IntegerField(help_text="Emails sent to this arm's members (touches on the email channel).")
    people_emailed = serializers.IntegerField()
    landings = serializers.IntegerField(help_text="Page views from the campaign's links (utm_campaign) since each member's action.")
    people_landed = serializers.IntegerField(help_text="Members with at least one landing.")


STATS = inline_serializer("CampaignStats", {
    "campaign": serializers.CharField(help_text="The campaign's slug."),
    "effective_status": serializers.ChoiceField(choices=CampaignStatus.values),
    "assigned": serializers.IntegerField(),
    "arms": ArmSerializer(many=True),
    "sample_ratio_p": serializers.FloatField(help_text="Chi-square p-value of the arms' counts against the split."),
    "sample_ratio_mismatch": serializers.BooleanField(help_text=f"True when sample_ratio_p < {SRM_ALPHA}: the split is broken."),
    "states": serializers.DictField(child=serializers.IntegerField(), help_text=f"Members per state: {', '.join(MemberState.values)}."),
    "emails_sent": serializers.IntegerField(),
    "landings": serializers.IntegerField(),
    "last_refreshed_at": serializers.DateTimeField(allow_null=True),
})
REFRESH_RESULT = inline_serializer("CampaignRefresh", {
    "campaign": serializers.CharField(),
    "status": serializers.ChoiceField(choices=CampaignStatus.values),
    "assigned": serializers.IntegerField(help_text="Members assigned by this refresh."),
    "states": serializers.DictField(child=serializers.IntegerField()),
    "message": serializers.CharField(allow_blank=True),
})


class MemberPickSerializer(serializers.ModelSerializer):
    creative = serializers.SerializerMethodField(help_text=(
        "URL of the product's square ad in the person's variant (their carousel card), when it has been rendered "
        "(socialshop_render_ads); null otherwise and for the hold-out."))

    class Meta:
        model = MemberPick
        fields = ("person", "rank", "product_id", "reason", "created_at", "creative")

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_creative(self, pick: MemberPick) -> str | None:
        cards = self.context.get("cards") or {}
        return cards.get((self.context.get("variants", {}).get(pick.person), pick.product_id))


class PickPagination(pagination.PageNumberPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


PICKS_PAGE = inline_serializer("MemberPickPage", {
    "count": serializers.IntegerField(),
    "next": serializers.URLField(allow_null=True),
    "previous": serializers.URLField(allow_null=True),
    "results": MemberPickSerializer(many=True),
})
PERSON = OpenApiParameter("person", str, required=False, description=(
    "Only this person's picks (u:<account>, h:<hash>, v:<visitor> or l:<list row>); without it, every member's, "
    f"by person then rank. Reasons: {', '.join(PickReason.values)}."))


def carousel_context(campaign: Campaign, picks: list[MemberPick], request: Request) -> dict[str, Any]:
    """Each picked product's rendered square card in its person's variant: two queries for a page of picks."""
    persons = {p.person for p in picks}
    variants = dict(Assignment.objects.filter(campaign=campaign, person__in=persons, variant__isnull=False)
                    .values_list("person", "variant_id"))
    creatives = Creative.objects.filter(campaign=campaign, size=CreativeSize.SQUARE, variant_id__in=set(variants.values()),
                                        product_id__in={p.product_id for p in picks}).only("variant_id", "product_id", "file")
    cards = {(c.variant_id, c.product_id): request.build_absolute_uri(c.file.url) for c in creatives}
    return {"variants": variants, "cards": cards}


def campaign_stats(campaign: Campaign) -> dict[str, Any]:
    """Assignment counts per arm (hold-out first) with their expected shares, the sample-ratio check, and each
    arm's members per state, emails and landings (campaigns/activity.py); a constant number of queries."""
    assigned = dict(Assignment.objects.filter(campaign=campaign).values("variant").annotate(n=Count("pk")).values_list("variant", "n"))
    codes = IssuedCode.objects.filter(campaign=campaign).values("variant")
    issued = dict(codes.annotate(n=Count("pk")).values_list("variant", "n"))
    redeemed = dict(codes.filter(redeemed_at__isnull=False).annotate(n=Count("pk")).values_list("variant", "n"))
    variants = list(campaign.variants.order_by("pk"))
    holdout = campaign.holdout_percent / 100
    total_weight = sum(v.weight for v in variants) or 1
    arms = [{"variant": None, "name": "hold-out", "expected_share": holdout}] + [
        {"variant": v.pk, "name": v.name, "expected_share": (1 - holdout) * v.weight / total_weight} for v in variants]
    activity = {a.variant_id: a for a in campaign_activity(campaign, series=False).arms}
    for arm in arms:
        done = activity.get(arm["variant"])
        arm.update(assigned=assigned.get(arm["variant"], 0), codes_issued=issued.get(arm["variant"], 0),
                   codes_redeemed=redeemed.get(arm["variant"], 0), states=dict(done.states) if done else {},
                   emails_sent=done.emails_sent if done else 0, people_emailed=done.people_emailed if done else 0,
                   landings=done.landings if done else 0, people_landed=done.people_landed if done else 0)
    p_value = srm_p_value([a["assigned"] for a in arms], [a["expected_share"] for a in arms])
    return {"campaign": campaign.slug, "effective_status": campaign.effective_status(), "assigned": sum(assigned.values()),
            "arms": arms, "sample_ratio_p": p_value, "sample_ratio_mismatch": p_value < SRM_ALPHA,
            "states": state_counts(campaign), "emails_sent": sum(a["emails_sent"] for a in arms),
            "landings": sum(a["landings"] for a in arms), "last_refreshed_at": campaign.last_refreshed_at}


class CampaignViewSet(SocialshopAPIMixin, viewsets.ModelViewSet):
    """Retargeting campaigns. ``GET /campaigns/{id}/stats/``: assignments per variant and hold-out, the
    sample-ratio check, members per state; ``POST /campaigns/{id}/refresh/`` assigns and recomputes now;
    ``GET /campaigns/{id}/picks/?person=``: the members' product picks."""

    queryset = Campaign.objects.prefetch_related("audiences", "exclusions", "variants").order_by("-created_at", "pk")
    serializer_class = CampaignSerializer
    action_permissions = {
        "stats": ("socialshop.view_campaign",),
        "refresh": ("socialshop.refresh_campaign",),
        "picks": ("socialshop.view_campaign",),
    }

    @document(parameters=[PERSON], responses={200: PICKS_PAGE, 400: ErrorSerializer})
    @action(detail=True, methods=["get"])
    def picks(self, request: Request, pk: str | None = None) -> Response:
        """The members' product picks from the last refresh (campaigns/picks.py), best first per person."""
        campaign = self.get_object()
        rows = MemberPick.objects.filter(campaign=campaign).order_by("person", "rank")
        person = request.query_params.get("person")
        if person is not None:
            if not 3 <= len(person) <= 80 or person[1:2] != ":" or person[0] not in "uhvl" or not person.isprintable():
                return Response({"detail": f"person {person[:100]!r} is not a person key such as 'v:<visitor id>' "
                                           "or 'u:<account id>' (at most 80 characters)"}, status=status.HTTP_400_BAD_REQUEST)
            rows = rows.filter(person=person)
        paginator = PickPagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(MemberPickSerializer(page, many=True, context=carousel_context(
            campaign, page or [], request)).data)

    @document(responses=STATS)
    @action(detail=True, methods=["get"])
    def stats(self, request: Request, pk: str | None = None) -> Response:
        return Response(campaign_stats(self.get_object()))

    @document(request=None, responses={200: REFRESH_RESULT, 409: ErrorSerializer})
    @action(detail=True, methods=["post"])
    def refresh(self, request: Request, pk: str | None = None) -> Response:
        campaign = self.get_object()
        try:
            result = refresh_campaign(campaign)
        except JobLocked:
            return Response({"detail": f"a refresh of {campaign.slug!r} is already running"}, status=status.HTTP_409_CONFLICT)
        return Response({"campaign": result.campaign, "status": result.status, "assigned": result.assigned,
                         "states": result.states, "message": result.message})


class VariantViewSet(SocialshopAPIMixin, viewsets.ModelViewSet):
    """A campaign's A/B variants. A variant people are assigned to cannot be deleted (409): set its weight
    to 0 to stop assigning new members to it; nobody already assigned ever moves."""

    queryset = Variant.objects.order_by("campaign", "pk")
    serializer_class = VariantSerializer

    @document(responses={204: None, 409: ErrorSerializer})
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        variant = self.get_object()
        try:
            variant.delete()
        except ProtectedError:
            return Response({"detail": f"variant {variant.name!r} has assigned members; set its weight to 0 instead"},
                            status=status.HTTP_409_CONFLICT)
        return Response(status=status.HTTP_204_NO_CONTENT)
