"""The platforms' reporting endpoints as they document them, answering deterministic daily figures:
Meta Insights, Pinterest campaign analytics, TikTok's synchronous report, Google Ads searchStream (with
the OAuth token endpoint its client calls first).

Each checks authentication and the parameters socialshop relies on and refuses the rest the platform's
way; ``figures(ref, day)`` is what every platform reports for an ad campaign on a day, so a test can
compute the expected rows. Routed from the server in shop_demo/fakeplatforms/__init__.py.
"""
from __future__ import annotations

import hashlib
import json
import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

from shop_demo.fakeplatforms.common import CREDENTIALS, Invalid

# Google Ads reporting is not in the demo's settings (its OAuth client would switch Customer Match on there);
# tests point a Google entry with these values at the stand-in.
GOOGLE_REPORTS = {"reports_customer_id": "123-456-7890", "reports_developer_token": "fake-developer-token",
                  "oauth_client_id": "fake-client.apps.googleusercontent.com", "oauth_client_secret": "fake-secret",
                  "oauth_refresh_token": "fake-refresh-token"}
GOOGLE_ACCESS_TOKEN = "fake-google-ads-access-token"
MAX_DAYS = {"meta": 3700, "pinterest": 90, "tiktok": 30, "google": 3700}


def figures(ref: str, day: date) -> tuple[int, int, Decimal]:
    """(impressions, clicks, spend) the stand-in reports for the ad campaign ``ref`` (id or name) on ``day``."""
    seed = int(hashlib.sha256(f"{ref}|{day.isoformat()}".encode()).hexdigest()[:8], 16)
    impressions = 800 + seed % 700
    clicks = impressions * (2 + seed % 4) // 100
    return impressions, clicks, (Decimal(impressions) * Decimal("0.0125")).quantize(Decimal("0.01"))


def _days(since: Any, until: Any, slug: str) -> list[date]:
    try:
        start, end = date.fromisoformat(str(since)), date.fromisoformat(str(until))
    except ValueError:
        raise Invalid(f"dates {since!r}..{until!r} are not YYYY-MM-DD") from None
    if end < start:
        raise Invalid("the end date comes before the start date")
    if (end - start).days + 1 > MAX_DAYS[slug]:
        raise Invalid(f"the date range is longer than {MAX_DAYS[slug]} days")
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def _json(value: Any, what: str) -> Any:
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        raise Invalid(f"{what} is not JSON") from None


def route(method: str, path: str, query: dict[str, str], headers: Any) -> tuple[str, bool] | None:
    """(slug, authorised) when ``path`` is a reporting endpoint, else None."""
    c = CREDENTIALS
    if method == "GET" and (m := re.match(r"^/v\d+\.\d+/act_(\w+)/insights$", path)):
        account = str(c["meta"].get("reports_ad_account_id", "")).removeprefix("act_")
        return "meta", m.group(1) == account and query.get("access_token") == c["meta"].get("reports_access_token")
    if method == "GET" and (m := re.match(r"^/v5/ad_accounts/(\w+)/campaigns/analytics$", path)):
        return "pinterest", (m.group(1) == c["pinterest"]["ad_account_id"]
                             and headers.get("Authorization") == f"Bearer {c['pinterest'].get('reports_access_token')}")
    if method == "GET" and path == "/open_api/v1.3/report/integrated/get/":
        return "tiktok", (headers.get("Access-Token") == c["tiktok"].get("reports_access_token")
                          and query.get("advertiser_id") == c["tiktok"].get("reports_advertiser_id"))
    if method == "POST" and path == "/token":
        return "google", True
    if method == "POST" and (m := re.match(r"^/v\d+/customers/(\d+)/googleAds:searchStream$", path)):
        return "google", (m.group(1) == GOOGLE_REPORTS["reports_customer_id"].replace("-", "")
                          and headers.get("Authorization") == f"Bearer {GOOGLE_ACCESS_TOKEN}"
                          and headers.get("developer-token") == GOOGLE_REPORTS["reports_developer_token"])
    return None


def refused(slug: str) -> tuple[int, Any]:
    """Each platform's answer to a wrong token or account."""
    if slug == "meta":
        return 400, {"error": {"message": "Invalid OAuth access token.", "type": "OAuthException", "code": 190}}
    if slug == "tiktok":
        return 200, {"code": 40105, "message": "Access token is incorrect or has been revoked.", "request_id": "fake"}
    if slug == "google":
        return 401, {"error": {"code": 401, "message": "Request had invalid authentication credentials.", "status": "UNAUTHENTICATED"}}
    return 401, {"code": 2, "message": "Authentication failed."}


def answer(slug: str, path: str, query: dict[str, str], raw: bytes) -> tuple[int, Any]:
    """The platform's answer to a valid, authorised reporting request; ``Invalid`` for a bad one."""
    if slug == "meta":
        if query.get("level") != "campaign" or query.get("time_increment") != "1":
            raise Invalid("level=campaign and time_increment=1 are expected")
        if not {"impressions", "clicks", "spend"} <= set(query.get("fields", "").split(",")):
            raise Invalid("fields must include impressions, clicks and spend")
        time_range = _json(query.get("time_range"), "time_range")
        filtering = _json(query.get("filtering"), "filtering")
        if not isinstance(filtering, list) or not filtering or filtering[0].get("field") not in ("campaign.id", "campaign.name"):
            raise Invalid("filtering on campaign.id or campaign.name is expected")
        value = filtering[0].get("value")
        ref = str(value[0] if isinstance(value, list) else value)
        rows = []
        for day in _days(time_range.get("since"), time_range.get("until"), slug):
            impressions, clicks, spend = figures(ref, day)
            rows.append({"campaign_id": ref, "impressions": str(impressions), "clicks": str(clicks), "spend": str(spend),
                         "account_currency": "USD", "date_start": day.isoformat(), "date_stop": day.isoformat()})
        return 200, {"data": rows, "paging": {"cursors": {"before": "MA", "after": "MQ"}}}
    if slug == "pinterest":
        ids = [i for i in query.get("campaign_ids", "").split(",") if i]
        if not ids or query.get("granularity") != "DAY":
            raise Invalid("campaign_ids and granularity=DAY are required")
        columns = set(query.get("columns", "").split(","))
        rows = []
        for ref in ids:
            for day in _days(query.get("start_date"), query.get("end_date"), slug):
                impressions, clicks, spend = figures(ref, day)
                values = {"SPEND_IN_MICRO_DOLLAR": int(spend * 1_000_000), "TOTAL_IMPRESSION": impressions, "TOTAL_CLICKTHROUGH": clicks}
                rows.append({"CAMPAIGN_ID": ref, "DATE": day.isoformat(), **{k: v for k, v in values.items() if k in columns}})
        return 200, rows
    if slug == "tiktok":
        if query.get("report_type") != "BASIC" or query.get("data_level") != "AUCTION_CAMPAIGN":
            return 200, {"code": 40002, "message": "report_type BASIC and data_level AUCTION_CAMPAIGN are expected", "request_id": "fake"}
        try:
            dimensions = _json(query.get("dimensions"), "dimensions")
            filters = _json(query.get("filtering"), "filtering")
            ids = _json(filters[0]["filter_value"], "filter_value")
            days = _days(query.get("start_date"), query.get("end_date"), slug)
        except (Invalid, LookupError, TypeError) as exc:
            return 200, {"code": 40002, "message": str(exc), "request_id": "fake"}
        if "stat_time_day" not in dimensions:
            return 200, {"code": 40002, "message": "dimensions must include stat_time_day", "request_id": "fake"}
        rows = [{"dimensions": {"campaign_id": ref, "stat_time_day": f"{day.isoformat()} 00:00:00"},
                 "metrics": dict(zip(("impressions", "clicks", "spend"), map(str, figures(ref, day))), currency="USD")}
                for ref in ids for day in days]
        return 200, {"code": 0, "message": "OK", "request_id": "fake",
                     "data": {"list": rows, "page_info": {"page": 1, "page_size": len(rows), "total_number": len(rows), "total_page": 1}}}
    if path == "/token":
        form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        if (form.get("grant_type") != "refresh_token" or form.get("client_id") != GOOGLE_REPORTS["oauth_client_id"]
                or form.get("refresh_token") != GOOGLE_REPORTS["oauth_refresh_token"]):
            return 400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}
        return 200, {"access_token": GOOGLE_ACCESS_TOKEN, "expires_in": 3599, "token_type": "Bearer"}
    body = _json(raw.decode() or "null", "the body")
    gaql = str((body or {}).get("query", ""))
    m = re.search(r"segments\.date BETWEEN '([\d-]+)' AND '([\d-]+)' AND campaign\.(id = (\d+)|name = '([^']+)')", gaql)
    if not m or not all(f in gaql for f in ("metrics.impressions", "metrics.clicks", "metrics.cost_micros")):
        return 400, {"error": {"code": 400, "message": f"Query error: {gaql[:120]!r}", "status": "INVALID_ARGUMENT"}}
    ref = m.group(4) or m.group(5)
    results = [{"campaign": {"resourceName": f"customers/1/campaigns/{ref}"}, "segments": {"date": day.isoformat()},
                "customer": {"currencyCode": "USD"},
                "metrics": {"impressions": str(i), "clicks": str(c), "costMicros": str(int(s * 1_000_000))}}
               for day in _days(m.group(1), m.group(2), "google") for i, c, s in [figures(ref, day)]]
    return 200, [{"results": results, "fieldMask": "campaign.id,segments.date,metrics.impressions", "requestId": "fake"}]
