"""TikTok synchronous reports: daily impressions, clicks and spend of one ad campaign.

``GET /open_api/v1.3/report/integrated/get/`` with ``report_type=BASIC``, ``data_level=AUCTION_CAMPAIGN``,
``dimensions=["campaign_id","stat_time_day"]``, the metrics and a ``campaign_ids`` filter (TikTok's
Business API SDK, ReportingApi; checked with the search tool). Errors are HTTP 200 with a non-zero code
(tiktok/business.py). Docs: docs/platforms/tiktok.md.
"""
from __future__ import annotations

import json
from datetime import date
from typing import ClassVar

from socialshop.platforms.http import ApiCall
from socialshop.platforms.reporting import CampaignRef, ReportDay, Reporting, count, day_of, money
from socialshop.platforms.tiktok.business import BusinessApi

METRICS = ["spend", "impressions", "clicks", "currency"]
PAGE_SIZE = 1000  # TikTok: at most 1,000 rows a page
MAX_PAGES = 20


class TikTokReporting(BusinessApi, Reporting):
    required_settings: ClassVar[tuple[str, ...]] = ("reports_advertiser_id", "reports_access_token")
    # TikTok: a daily (stat_time_day) report covers at most 30 days (third-party clients; unconfirmed).
    max_days: ClassVar[int] = 30

    def daily_report(self, ref: CampaignRef, *, since: date, until: date) -> list[ReportDay]:
        campaign_id = self.need_id(ref)
        params = {
            "advertiser_id": str(self.setting("reports_advertiser_id")), "report_type": "BASIC",
            "data_level": "AUCTION_CAMPAIGN", "dimensions": json.dumps(["campaign_id", "stat_time_day"]),
            "metrics": json.dumps(METRICS), "start_date": since.isoformat(), "end_date": until.isoformat(),
            "filtering": json.dumps([{"field_name": "campaign_ids", "filter_type": "IN", "filter_value": json.dumps([campaign_id])}]),
            "page_size": str(PAGE_SIZE),
        }
        days: list[ReportDay] = []
        for page in range(1, MAX_PAGES + 1):
            status, answer = self.call(ApiCall("GET", "/open_api/v1.3/report/integrated/get/", params={**params, "page": str(page)},
                                               headers={"Access-Token": str(self.setting("reports_access_token"))}))
            error = self.answer_error(status, answer)
            if error is not None:
                raise error
            data = answer.get("data") or {}
            rows = data.get("list")
            if not isinstance(rows, list):
                raise self.malformed(answer)
            for row in rows:
                dims, metrics = row.get("dimensions") or {}, row.get("metrics") or {}
                if str(dims.get("campaign_id")) == campaign_id:
                    days.append(ReportDay(day_of(dims.get("stat_time_day")), count(metrics.get("impressions")),
                                          count(metrics.get("clicks")), money(metrics.get("spend")), str(metrics.get("currency") or "")))
            if page >= int((data.get("page_info") or {}).get("total_page") or 1):
                break
        return sorted(days, key=lambda d: d.day)
