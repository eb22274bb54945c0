"""The campaign results dashboard in admin: charts over time (exposed against hold-out), the per-arm table
with the metrics and the tests' verdicts, its CSV export, and ROAS and lift at a glance in the list.

``CampaignResultsAdmin`` is mixed into ``CampaignAdmin`` (campaigns/admin.py). The figures come from
campaigns/results.py in a constant number of queries; charts are core/charts.py.
"""
from __future__ import annotations

import csv
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from socialshop.campaigns.models import Campaign, ReportPull
from socialshop.campaigns.results import Arm, CampaignResults, Day, daily_reports, results_for, timeline
from socialshop.campaigns.stats import Lift
from socialshop.core.charts import line_chart

EXPORT_PERMISSION = "socialshop.export_campaign_results"
COLUMNS = ("arm", "expected share", "members", "actual share", "reached", "landings", "landings with click id",
           "converted", "conversion rate", "purchases", "revenue", "revenue per member", "attributed conversions",
           "attributed revenue", "codes issued", "codes redeemed", "conversion lift vs hold-out", "95% CI",
           "lift verdict", "revenue lift vs hold-out", "revenue 95% CI", "revenue lift verdict",
           "conversion vs first variant", "revenue vs first variant")


def _pct(value: float | None, *, signed: bool = False) -> str:
    if value is None:
        return "—"
    return f"{value:+.1%}" if signed else f"{value:.1%}"


def _ci(lift: Lift | None) -> str:
    if lift is None or lift.low is None or lift.high is None:
        return "—"
    return f"{lift.low:+.1%} to {lift.high:+.1%}"


def _lift_text(lift: Lift) -> str:
    if lift.lift is None:
        return "—"
    interval = _ci(lift)
    return _pct(lift.lift, signed=True) + ("" if interval == "—" else f" (95% CI {interval})")


def _money(value: Decimal | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _safe_cell(text: str) -> str:
    """A name as a CSV cell a spreadsheet will not run as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def arm_row(arm: Arm, total: int) -> list[str]:
    """One arm as the table and the CSV show it (the same cells)."""
    comparison = arm.comparison
    first = arm.variant_id is not None and comparison is None
    return [
        _safe_cell(arm.name), _pct(arm.expected_share), str(arm.members), _pct(arm.members / total if total else None),
        str(arm.exposed), str(arm.landings), str(arm.click_landings), str(arm.conversions), _pct(arm.conversion_rate),
        str(arm.purchases), _money(arm.revenue), _money(arm.revenue_per_member), str(arm.attributed_conversions),
        _money(arm.attributed_revenue), str(arm.codes_issued), str(arm.codes_redeemed),
        _pct(arm.conversion_lift.lift if arm.conversion_lift else None, signed=True), _ci(arm.conversion_lift),
        arm.conversion_lift.verdict if arm.conversion_lift else "baseline",
        _pct(arm.revenue_lift.lift if arm.revenue_lift else None, signed=True), _ci(arm.revenue_lift),
        arm.revenue_lift.verdict if arm.revenue_lift else "baseline",
        comparison.conversion_verdict if comparison else ("reference" if first else "—"),
        comparison.revenue_verdict if comparison else ("reference" if first else "—"),
    ]


def table(results: CampaignResults) -> list[list[str]]:
    """The per-arm table, hold-out first."""
    return [arm_row(arm, results.members) for arm in results.arms]


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def charts(days: list[Day], reports: list[tuple[date, int, int, Decimal]], currency: str) -> list[Any]:
    """Members, landings, conversions and revenue per day (reached against hold-out), and the platforms' figures."""
    def series(attribute: str) -> dict[str, list[tuple[datetime, float]]]:
        out: dict[str, list[tuple[datetime, float]]] = {"reached (variants)": [], "hold-out": []}
        for d in days:
            value = getattr(d, attribute)
            if value:
                out["hold-out" if d.holdout else "reached (variants)"].append((_midnight(d.day), float(value)))
        return out

    made = [
        line_chart(series("members"), title="Members assigned per day", y_label="members", x_label="day (UTC)"),
        line_chart(series("landings"), title="Landings from the campaign's links per day", y_label="landings", x_label="day (UTC)"),
        line_chart(series("conversions"), title="Members converting per day (in their window)", y_label="members", x_label="day (UTC)"),
        line_chart(series("revenue"), title=f"Revenue per day ({currency})", y_label=currency, x_label="day (UTC)"),
    ]
    if reports:
        made.append(line_chart({"impressions": [(_midnight(d), float(i)) for d, i, _, _ in reports],
                                "clicks": [(_midnight(d), float(c)) for d, _, c, _ in reports]},
                               title="Platform impressions and clicks per day", y_label="count", x_label="day (UTC)"))
        made.append(line_chart({"spend": [(_midnight(d), float(s)) for d, _, _, s in reports]},
                               title="Platform spend per day", y_label="spend", x_label="day (UTC)"))
    return made


class CampaignResultsAdmin:
    """Mixed into ``CampaignAdmin``: the results page and CSV, the link to them, and the list's ROAS and lift."""

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view  # type: ignore[attr-defined]
        return [
            path("<int:pk>/results/", view(self.results_view), name="socialshop_campaign_results"),
            path("<int:pk>/results.csv", view(self.results_csv_view), name="socialshop_campaign_results_csv"),
            *super().get_urls(),  # type: ignore[misc]
        ]

    def get_changelist_instance(self, request: HttpRequest) -> Any:
        """Compute the page's results once (a constant number of queries) for the ROAS and lift columns."""
        changelist = super().get_changelist_instance(request)  # type: ignore[misc]
        campaigns = list(changelist.result_list)  # evaluates and caches the page's rows
        results = results_for(campaigns)
        for campaign in campaigns:
            campaign.ss_results = results.get(campaign.pk)
        return changelist

    def roas_at_a_glance(self, obj: Campaign) -> str:
        results: CampaignResults | None = getattr(obj, "ss_results", None)
        return "—" if results is None or results.roas is None else f"{results.roas:.2f}"

    roas_at_a_glance.short_description = "ROAS"  # type: ignore[attr-defined]

    def lift_at_a_glance(self, obj: Campaign) -> str:
        results: CampaignResults | None = getattr(obj, "ss_results", None)
        if results is None:
            return "—"
        lift = results.conversion_lift
        if lift.lift is None:
            return "—"
        return f"{lift.lift:+.0%}" + ("" if lift.conclusive else " (unsure)")

    lift_at_a_glance.short_description = "lift vs hold-out"  # type: ignore[attr-defined]

    def results_link(self, obj: Campaign) -> str:
        if not obj.pk:
            return "Save the campaign first."
        return format_html('<a href="{}">Results dashboard</a> (charts, variants, lift, CSV)',
                           reverse("admin:socialshop_campaign_results", args=[obj.pk]))

    results_link.short_description = "results"  # type: ignore[attr-defined]

    def _campaign(self, request: HttpRequest, pk: int) -> Campaign:
        campaign = get_object_or_404(Campaign, pk=pk)
        if not self.has_view_permission(request, campaign):  # type: ignore[attr-defined]
            raise PermissionDenied
        return campaign

    def results_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        campaign = self._campaign(request, pk)
        results = results_for([campaign])[campaign.pk]
        pulls = list(ReportPull.objects.filter(campaign=campaign).order_by("platform"))
        context = {
            **self.admin_site.each_context(request), "opts": Campaign._meta,  # type: ignore[attr-defined]
            "title": f"Results: {campaign.name}", "campaign": campaign, "results": results, "columns": COLUMNS,
            "rows": table(results), "charts": charts(timeline(campaign), daily_reports(campaign), results.currency),
            "pulls": pulls, "can_export": request.user.has_perm(EXPORT_PERMISSION),
            "conversion_lift": results.conversion_lift, "revenue_lift": results.revenue_lift,
            "ctr": _pct(results.ctr), "conversion_lift_text": _lift_text(results.conversion_lift),
            "revenue_lift_text": _lift_text(results.revenue_lift),
        }
        return TemplateResponse(request, "socialshop/admin/campaign_results.html", context)

    def results_csv_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        campaign = self._campaign(request, pk)
        if not request.user.has_perm(EXPORT_PERMISSION):
            raise PermissionDenied
        results = results_for([campaign])[campaign.pk]
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{campaign.slug}-results.csv"'
        writer = csv.writer(response)
        writer.writerow(COLUMNS)
        writer.writerows(table(results))
        return response
