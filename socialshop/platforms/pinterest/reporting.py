"""Pinterest campaign analytics: daily impressions, clicks and spend of one ad campaign.

``GET /v5/ad_accounts/<id>/campaigns/analytics`` with ``campaign_ids``, ``start_date``, ``end_date``,
``columns`` and ``granularity=DAY`` (Pinterest API v5 reference, checked with the search tool: the
campaign id is required and daily data reaches back 90 days). Docs: docs/platforms/pinterest.md.
"""
from __future__ import annotations

from datetime import date
from typing import ClassVar

from socialshop.platforms.http import ApiCall
from socialshop.platforms.reporting import CampaignRef, ReportDay, Reporting, count, day_of, money

# Pinterest: spend comes in micro-units of the ad account's currency; impressions and clicks are totals
# over paid and earned (column names as Pinterest's v5 clients use them).
SPEND, IMPRESSIONS, CLICKS = "SPEND_IN_MICRO_DOLLAR", "TOTAL_IMPRESSION", "TOTAL_CLICKTHROUGH"


class PinterestReporting(Reporting):
    # The conversion token of the events capability cannot read analytics (ads:read scope): its own token.
    required_settings: ClassVar[tuple[str, ...]] = ("ad_account_id", "reports_access_token")
    max_days: ClassVar[int] = 90  # Pinterest: at most 90 days a request (and 90 days back)

    def daily_report(self, ref: CampaignRef, *, since: date, until: date) -> list[ReportDay]:
        campaign_id = self.need_id(ref)
        account = str(self.setting("ad_account_id"))
        _, answer = self.call(ApiCall(
            "GET", f"/v5/ad_accounts/{account}/campaigns/analytics",
            params={"campaign_ids": campaign_id, "start_date": since.isoformat(), "end_date": until.isoformat(),
                    "columns": ",".join((SPEND, IMPRESSIONS, CLICKS)), "granularity": "DAY"},
            headers={"Authorization": f"Bearer {self.setting('reports_access_token')}"}))
        if not isinstance(answer, list):
            raise self.malformed(answer)
        return sorted((ReportDay(day_of(row.get("DATE")), count(row.get(IMPRESSIONS)), count(row.get(CLICKS)),
                                 money(row.get(SPEND), micros=True))
                       for row in answer if isinstance(row, dict) and str(row.get("CAMPAIGN_ID")) == campaign_id),
                      key=lambda d: d.day)
