"""Measured results of campaigns: per arm (each variant and the hold-out) members, landings, conversions,
revenue and codes, the platforms' impressions and spend, the metrics (CTR, conversion rate, revenue per
member, ROAS, CPA), lift against the hold-out and the tests between variants; and a day-by-day timeline.

Everything is aggregated in SQL over the event store (a constant number of queries for any number of
members or campaigns); the statistics are campaigns/stats.py, the reports are pulled by
campaigns/reports.py. Definitions: docs/campaigns.md, "Results".
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Count, Q, Sum

from socialshop.audiences.rules import person_sql
from socialshop.campaigns.models import Assignment, Campaign, IssuedCode, PlatformReport, Touch, Variant
from socialshop.campaigns.stats import PEEKING, SRM_ALPHA, Comparison, Lift, Sample, compare, conversion_lift, revenue_lift, srm_p
from socialshop.conf import app_settings

CENT = Decimal("0.01")


def _t(model: Any) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _money(value: Any) -> Decimal:
    return Decimal(str(value or 0)).quantize(CENT)


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


@dataclass(frozen=True, slots=True)
class Arm:
    """One arm's aggregates. ``conversions``/``revenue`` count purchases from assignment on, within the
    attribution window (the like-for-like comparison with the hold-out); ``attributed_*`` count them from
    the member's exposure (first landing or touch) on, as ROAS and CPA use."""

    variant_id: int | None
    name: str
    expected_share: float
    members: int = 0
    exposed: int = 0
    landings: int = 0
    click_landings: int = 0
    conversions: int = 0
    purchases: int = 0
    revenue: Decimal = Decimal("0.00")
    revenue_sq: float = 0.0
    attributed_conversions: int = 0
    attributed_revenue: Decimal = Decimal("0.00")
    codes_issued: int = 0
    codes_redeemed: int = 0
    comparison: Comparison | None = None  # against the first variant (None for it and for the hold-out)
    conversion_lift: Lift | None = None  # against the hold-out (variants only)
    revenue_lift: Lift | None = None

    @property
    def is_holdout(self) -> bool:
        return self.variant_id is None

    @property
    def sample(self) -> Sample:
        return Sample(self.members, self.conversions, float(self.revenue), self.revenue_sq)

    @property
    def conversion_rate(self) -> float | None:
        return _ratio(self.conversions, self.members)

    @property
    def revenue_per_member(self) -> Decimal | None:
        return (self.revenue / self.members).quantize(CENT) if self.members else None


@dataclass(frozen=True, slots=True)
class PlatformTotals:
    """What one platform reported for the campaign over every stored day."""

    platform: str
    impressions: int
    clicks: int
    spend: Decimal
    currency: str

    @property
    def ctr(self) -> float | None:
        return _ratio(self.clicks, self.impressions)


@dataclass(frozen=True, slots=True)
class CampaignResults:
    """A campaign's results: its arms (hold-out first), the platforms' figures and the headline metrics."""

    campaign: str
    currency: str
    attribution_days: int
    arms: tuple[Arm, ...]
    platforms: tuple[PlatformTotals, ...]
    sample_ratio_p: float
    caveat: str = PEEKING
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def holdout(self) -> Arm:
        return self.arms[0]

    @property
    def variants(self) -> tuple[Arm, ...]:
        return self.arms[1:]

    @property
    def sample_ratio_mismatch(self) -> bool:
        return self.sample_ratio_p < SRM_ALPHA

    @property
    def exposed(self) -> Sample:
        """Every variant member together (reached or not: the arm the hold-out is compared with)."""
        return Sample(sum(a.members for a in self.variants), sum(a.conversions for a in self.variants),
                      float(sum((a.revenue for a in self.variants), Decimal("0"))), sum(a.revenue_sq for a in self.variants))

    @property
    def members(self) -> int:
        return sum(a.members for a in self.arms)

    @property
    def impressions(self) -> int:
        return sum(p.impressions for p in self.platforms)

    @property
    def clicks(self) -> int:
        return sum(p.clicks for p in self.platforms)

    @property
    def spend(self) -> Decimal | None:
        """Spend in the store's currency over every platform; None when a platform reports in another one."""
        if any(p.currency != self.currency for p in self.platforms):
            return None
        return sum((p.spend for p in self.platforms), Decimal("0.00"))

    @property
    def ctr(self) -> float | None:
        return _ratio(self.clicks, self.impressions)

    @property
    def attributed_conversions(self) -> int:
        return sum(a.attributed_conversions for a in self.variants)

    @property
    def attributed_revenue(self) -> Decimal:
        return sum((a.attributed_revenue for a in self.variants), Decimal("0.00"))

    @property
    def roas(self) -> float | None:
        """Attributed revenue / spend (None without spend)."""
        spend = self.spend
        return float(self.attributed_revenue / spend) if spend else None

    @property
    def cpa(self) -> Decimal | None:
        """Spend per attributed conversion (None without spend or conversions)."""
        spend = self.spend
        return (spend / self.attributed_conversions).quantize(CENT) if spend and self.attributed_conversions else None

    @property
    def incremental_conversions(self) -> float | None:
        """conv_exposed − CR_holdout · N_exposed: the conversions the campaign caused, estimated."""
        rate = self.holdout.conversion_rate
        exposed = self.exposed
        return None if rate is None or not exposed.members else exposed.conversions - rate * exposed.members

    @property
    def incremental_revenue(self) -> Decimal | None:
        """rev_exposed − RPM_holdout · N_exposed."""
        holdout, exposed = self.holdout, self.exposed
        if not holdout.members or not exposed.members:
            return None
        revenue = sum((a.revenue for a in self.variants), Decimal("0"))
        return (revenue - holdout.revenue * exposed.members / holdout.members).quantize(CENT)

    @property
    def conversion_lift(self) -> Lift:
        return conversion_lift(self.exposed, self.holdout.sample)

    @property
    def revenue_lift(self) -> Lift:
        return revenue_lift(self.exposed, self.holdout.sample)


# -- SQL pieces per database -------------------------------------------------------------------------

def _json_text(column: str, key: str) -> str:
    if connection.vendor == "postgresql":
        return f"({column} ->> '{key}')"
    return f"json_extract({column}, '$.{key}')"


def _has_click_id(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"CASE WHEN {column} IS NOT NULL AND {column} <> '{{}}'::jsonb THEN 1 ELSE 0 END"
    return f"CASE WHEN {column} IS NOT NULL AND {column} NOT IN ('{{}}', 'null', '') THEN 1 ELSE 0 END"


def _plus_days(column: str, days: str) -> str:
    if connection.vendor == "postgresql":
        return f"({column} + {days} * INTERVAL '1 day')"
    return f"datetime({column}, '+' || {days} || ' days')"


def _day(column: str) -> str:
    return f"CAST({column} AS DATE)" if connection.vendor == "postgresql" else f"date({column})"


def _marks(values: Sequence[Any]) -> str:
    return ", ".join(["%s"] * len(values))


def _base_ctes(campaigns: Sequence[Campaign]) -> tuple[str, list[Any]]:
    """WITH a (each assignment with its campaign's slug and window) and ev (the campaigns' landings and all
    purchases since the earliest assignment, each with its person key)."""
    ids, slugs = [c.pk for c in campaigns], [c.slug for c in campaigns]
    source, person, _user = person_sql()
    utm = _json_text("e.utm", "utm_campaign")
    sql = (
        f"WITH a AS (SELECT x.campaign_id AS cid, x.person AS person, x.variant_id AS vid, x.assigned_at AS at0, "
        f"c.slug AS slug, c.attribution_days AS days FROM {_t(Assignment)} x JOIN {_t(Campaign)} c ON c.id = x.campaign_id "
        f"WHERE x.campaign_id IN ({_marks(ids)})), "
        f"ev AS (SELECT {person} AS person, e.name AS name, e.occurred_at AS at, {utm} AS camp, "
        f"{_has_click_id('e.click_ids')} AS clicked, "
        f"CASE WHEN e.name = 'Purchase' AND e.currency IN (%s, '') THEN COALESCE(e.value, 0) ELSE 0 END AS value "
        f"FROM {source} WHERE e.occurred_at >= (SELECT MIN(at0) FROM a) AND (e.name = 'Purchase' OR "
        f"(e.name = 'PageView' AND {utm} IN ({_marks(slugs)})))) "
    )
    return sql, [*ids, str(app_settings.CURRENCY), *slugs]


def _arm_rows(campaigns: Sequence[Campaign]) -> list[tuple[Any, ...]]:
    """(campaign id, variant id, members, exposed, landings, click landings, conversions, purchases, revenue,
    revenue², attributed conversions, attributed revenue) per arm, in one query."""
    base, params = _base_ctes(campaigns)
    ids = [c.pk for c in campaigns]
    purchase = "ev.person = {m}.person AND ev.name = 'Purchase' AND ev.at >= {m}.{start} AND ev.at < {end}"
    sql = base + (
        f", land AS (SELECT a.cid AS cid, a.person AS person, COUNT(*) AS n, SUM(ev.clicked) AS nc, MIN(ev.at) AS first "
        f"FROM a JOIN ev ON ev.person = a.person AND ev.name = 'PageView' AND ev.camp = a.slug AND ev.at >= a.at0 "
        f"GROUP BY a.cid, a.person), "
        f"touch AS (SELECT t.campaign_id AS cid, t.person AS person, MIN(t.at) AS first FROM {_t(Touch)} t "
        f"WHERE t.campaign_id IN ({_marks(ids)}) GROUP BY t.campaign_id, t.person), "
        f"m AS (SELECT a.cid AS cid, a.person AS person, a.vid AS vid, a.at0 AS at0, a.days AS days, "
        f"COALESCE(land.n, 0) AS landings, COALESCE(land.nc, 0) AS clicked, "
        f"CASE WHEN land.first IS NOT NULL OR touch.first IS NOT NULL THEN 1 ELSE 0 END AS exposed, "
        f"CASE WHEN a.vid IS NULL THEN a.at0 "
        f"WHEN land.first IS NOT NULL AND (touch.first IS NULL OR land.first <= touch.first) THEN land.first "
        f"WHEN touch.first IS NOT NULL THEN touch.first ELSE a.at0 END AS ex0 "
        f"FROM a LEFT JOIN land ON land.cid = a.cid AND land.person = a.person "
        f"LEFT JOIN touch ON touch.cid = a.cid AND touch.person = a.person), "
        f"itt AS (SELECT m.cid AS cid, m.person AS person, COUNT(*) AS n, SUM(ev.value) AS rev FROM m JOIN ev ON "
        + purchase.format(m="m", start="at0", end=_plus_days("m.at0", "m.days")) + " GROUP BY m.cid, m.person), "
        f"att AS (SELECT m.cid AS cid, m.person AS person, SUM(ev.value) AS rev FROM m JOIN ev ON "
        + purchase.format(m="m", start="ex0", end=_plus_days("m.ex0", "m.days")) + " GROUP BY m.cid, m.person) "
        "SELECT m.cid, m.vid, COUNT(*), SUM(m.exposed), SUM(m.landings), SUM(m.clicked), COUNT(itt.person), "
        "COALESCE(SUM(itt.n), 0), COALESCE(SUM(itt.rev), 0), COALESCE(SUM(itt.rev * itt.rev), 0), "
        "COUNT(att.person), COALESCE(SUM(att.rev), 0) "
        "FROM m LEFT JOIN itt ON itt.cid = m.cid AND itt.person = m.person "
        "LEFT JOIN att ON att.cid = m.cid AND att.person = m.person GROUP BY m.cid, m.vid"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *ids])
        return cursor.fetchall()


def results_for(campaigns: Iterable[Campaign]) -> dict[int, CampaignResults]:
    """Results of every campaign given, keyed by id: five queries whatever the number of campaigns or members."""
    campaigns = list(campaigns)
    if not campaigns:
        return {}
    ids = [c.pk for c in campaigns]
    variants: dict[int, list[Variant]] = defaultdict(list)
    for variant in Variant.objects.filter(campaign_id__in=ids).order_by("campaign_id", "pk"):
        variants[variant.campaign_id].append(variant)
    rows = {(r[0], r[1]): r for r in _arm_rows(campaigns)}
    codes = {(r["campaign_id"], r["variant_id"]): r for r in IssuedCode.objects.filter(campaign_id__in=ids)
             .values("campaign_id", "variant_id").annotate(issued=Count("pk"), redeemed=Count("pk", filter=Q(redeemed_at__isnull=False)))}
    reports: dict[int, list[PlatformTotals]] = defaultdict(list)
    for r in (PlatformReport.objects.filter(campaign_id__in=ids).values("campaign_id", "platform", "currency")
              .annotate(impressions=Sum("impressions"), clicks=Sum("clicks"), spend=Sum("spend")).order_by("campaign_id", "platform")):
        reports[r["campaign_id"]].append(PlatformTotals(r["platform"], int(r["impressions"] or 0), int(r["clicks"] or 0),
                                                        _money(r["spend"]), r["currency"]))
    return {c.pk: _campaign_results(c, variants[c.pk], rows, codes, reports[c.pk]) for c in campaigns}


def _campaign_results(campaign: Campaign, variants: list[Variant], rows: dict[tuple[Any, Any], tuple[Any, ...]],
                      codes: dict[tuple[Any, Any], dict[str, Any]], platforms: list[PlatformTotals]) -> CampaignResults:
    holdout_share = campaign.holdout_percent / 100
    total_weight = sum(v.weight for v in variants) or 1
    plain: list[Arm] = []
    for variant_id, name, share in [(None, "hold-out", holdout_share)] + [
            (v.pk, v.name, (1 - holdout_share) * v.weight / total_weight) for v in variants]:
        row = rows.get((campaign.pk, variant_id))
        code = codes.get((campaign.pk, variant_id), {})
        values: dict[str, Any] = {}
        if row is not None:
            values = {"members": row[2], "exposed": int(row[3] or 0), "landings": int(row[4] or 0),
                      "click_landings": int(row[5] or 0), "conversions": row[6], "purchases": int(row[7]),
                      "revenue": _money(row[8]), "revenue_sq": float(row[9] or 0), "attributed_conversions": row[10],
                      "attributed_revenue": _money(row[11])}
        plain.append(Arm(variant_id, name, share, codes_issued=code.get("issued", 0), codes_redeemed=code.get("redeemed", 0),
                         **values))
    holdout, first = plain[0], (plain[1] if len(plain) > 1 else None)
    arms = [holdout]
    for arm in plain[1:]:
        arms.append(Arm(**{**{f: getattr(arm, f) for f in Arm.__dataclass_fields__},
                           "comparison": None if arm is first or first is None else compare(
                               arm.sample, first.sample, name=arm.name, reference_name=first.name),
                           "conversion_lift": conversion_lift(arm.sample, holdout.sample),
                           "revenue_lift": revenue_lift(arm.sample, holdout.sample)}))
    p_value = srm_p([a.members for a in arms], [a.expected_share for a in arms])
    notes = []
    if not holdout.members:
        notes.append("No hold-out members: lift cannot be measured (set a hold-out share above 0).")
    currency = str(app_settings.CURRENCY)
    if any(p.currency != currency for p in platforms):
        notes.append(f"A platform reports spend in another currency than {currency}: ROAS and CPA are not computed.")
    return CampaignResults(campaign.slug, currency, campaign.attribution_days, tuple(arms), tuple(platforms), p_value,
                           notes=tuple(notes))


def campaign_results(campaign: Campaign) -> CampaignResults:
    """One campaign's results (``results_for`` for one)."""
    return results_for([campaign])[campaign.pk]


@dataclass(frozen=True, slots=True)
class Day:
    """One day of a campaign, for each side (``holdout`` or reached): assigned members, landings, members
    converting that day (first purchase in their window) and the revenue of purchases in their window."""

    day: date
    holdout: bool
    members: int
    landings: int
    conversions: int
    revenue: Decimal


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def timeline(campaign: Campaign) -> list[Day]:
    """The campaign day by day (UTC), exposed and hold-out apart: one query."""
    base, params = _base_ctes([campaign])
    side = "CASE WHEN a.vid IS NULL THEN 1 ELSE 0 END"
    window = "ev.at >= a.at0 AND ev.at < " + _plus_days("a.at0", "a.days")
    sql = base + (
        f", conv AS (SELECT a.person AS person, {side} AS h, MIN(ev.at) AS first FROM a JOIN ev ON ev.person = a.person "
        f"AND ev.name = 'Purchase' AND {window} GROUP BY a.person, {side}) "
        f"SELECT d, h, SUM(mem), SUM(land), SUM(cv), SUM(rev) FROM ("
        f"SELECT {_day('a.at0')} AS d, {side} AS h, 1 AS mem, 0 AS land, 0 AS cv, 0 AS rev FROM a "
        f"UNION ALL SELECT {_day('ev.at')}, {side}, 0, 1, 0, 0 FROM a JOIN ev ON ev.person = a.person "
        f"AND ev.name = 'PageView' AND ev.camp = a.slug AND ev.at >= a.at0 "
        f"UNION ALL SELECT {_day('conv.first')}, conv.h, 0, 0, 1, 0 FROM conv "
        f"UNION ALL SELECT {_day('ev.at')}, {side}, 0, 0, 0, ev.value FROM a JOIN ev ON ev.person = a.person "
        f"AND ev.name = 'Purchase' AND {window}"
        f") x GROUP BY d, h ORDER BY d, h"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [Day(_as_date(d), bool(h), int(mem), int(land), int(cv), _money(rev)) for d, h, mem, land, cv, rev in cursor.fetchall()]


def daily_reports(campaign: Campaign) -> list[tuple[date, int, int, Decimal]]:
    """(day, impressions, clicks, spend) summed over the platforms, oldest first: one query."""
    rows = (PlatformReport.objects.filter(campaign=campaign).values("day")
            .annotate(i=Sum("impressions"), c=Sum("clicks"), s=Sum("spend")).order_by("day"))
    return [(r["day"], int(r["i"] or 0), int(r["c"] or 0), _money(r["s"])) for r in rows]
