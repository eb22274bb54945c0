"""Meta Ads Insights: daily impressions, clicks and spend of one ad campaign of the ad account.

``GET /<version>/act_<id>/insights`` with ``level=campaign``, ``time_increment=1`` (one row a day),
``time_range`` and a ``filtering`` on the campaign's id or, without one, its name (Meta's Insights API
docs; checked with the search tool). Paged by ``paging.cursors.after``. Docs: docs/platforms/meta.md.
"""
from __future__ import annotations

import json
from datetime import date
from typing import Any, ClassVar

from socialshop.platforms.http import ApiCall
from socialshop.platforms.meta.graph import GraphApi
from socialshop.platforms.reporting import CampaignRef, ReportDay, Reporting, count, day_of, money

# Meta: the Insights fields we read; account_currency says what spend is in.
FIELDS = "campaign_id,campaign_name,impressions,clicks,spend,account_currency"
PAGE_SIZE = 500  # rows a page; a year of days fits in one
MAX_PAGES = 20  # a guard against a paging loop


class MetaReporting(GraphApi, Reporting):
    # Insights needs a token with ads_read, which the Conversions API's token usually lacks; its own keys
    # also keep reporting apart from audience uploads (each switches on by itself).
    required_settings: ClassVar[tuple[str, ...]] = ("reports_ad_account_id", "reports_access_token")
    finds_by_name: ClassVar[bool] = True
    max_days: ClassVar[int] = 90

    def daily_report(self, ref: CampaignRef, *, since: date, until: date) -> list[ReportDay]:
        account = str(self.setting("reports_ad_account_id")).removeprefix("act_")
        if ref.id:
            filtering = [{"field": "campaign.id", "operator": "IN", "value": [ref.id]}]
        else:
            filtering = [{"field": "campaign.name", "operator": "CONTAIN", "value": ref.name}]
        params: dict[str, str] = {
            "access_token": str(self.setting("reports_access_token")), "level": "campaign", "time_increment": "1",
            "fields": FIELDS, "time_range": json.dumps({"since": since.isoformat(), "until": until.isoformat()}),
            "filtering": json.dumps(filtering), "limit": str(PAGE_SIZE),
        }
        days: dict[date, ReportDay] = {}
        for _ in range(MAX_PAGES):
            _, answer = self.call(ApiCall("GET", self.graph_path(f"act_{account}/insights"), params=params))
            rows = answer.get("data") if isinstance(answer, dict) else None
            if not isinstance(rows, list):
                raise self.malformed(answer)
            for row in rows:
                self._add(days, row)
            after = ((answer.get("paging") or {}).get("cursors") or {}).get("after")
            if not after or not (answer.get("paging") or {}).get("next"):
                break
            params = {**params, "after": str(after)}
        return sorted(days.values(), key=lambda d: d.day)

    @staticmethod
    def _add(days: dict[date, ReportDay], row: Any) -> None:
        """Sum a row into its day (a name filter may match several ad campaigns)."""
        day = day_of(row.get("date_start"))
        seen = days.get(day)
        add = ReportDay(day, count(row.get("impressions")), count(row.get("clicks")), money(row.get("spend")),
                        str(row.get("account_currency") or ""))
        if seen is not None:
            add = ReportDay(day, seen.impressions + add.impressions, seen.clicks + add.clicks, seen.spend + add.spend,
                            seen.currency or add.currency)
        days[day] = add
