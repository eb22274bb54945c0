"""Google Ads reporting: daily impressions, clicks and cost of one campaign of the Google Ads account.

``POST /<version>/customers/<id>/googleAds:searchStream`` on googleads.googleapis.com with a GAQL query
over ``campaign`` (``metrics.impressions``, ``metrics.clicks``, ``metrics.cost_micros``, ``segments.date``),
an OAuth bearer token (platforms/google/oauth.py, the same client as Customer Match), the
``developer-token`` header and, through a manager account, ``login-customer-id`` (Google Ads API REST
docs; checked with the search tool). searchStream answers a JSON array of batches of ``results``.
Docs: docs/platforms/google.md.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any, ClassVar

from socialshop.platforms.google.audiences import customer_id, customer_id_problems
from socialshop.platforms.google.oauth import OAuthCapability
from socialshop.platforms.http import ApiCall, PlatformAPIError
from socialshop.platforms.reporting import CampaignRef, ReportDay, Reporting, count, day_of, money

# Google Ads API: the REST version in the path (v26 is the latest active one, 2026).
DEFAULT_API_VERSION = "v26"
OAUTH_KEYS = ("oauth_client_id", "oauth_client_secret", "oauth_refresh_token")
NAME_RE = re.compile(r"[^\\']{1,255}")  # a campaign name GAQL can quote without escapes


class GoogleReporting(OAuthCapability, Reporting):
    """Google Ads campaign metrics; the OAuth keys are shared with Customer Match (google/audiences.py)."""

    required_settings: ClassVar[tuple[str, ...]] = ("reports_customer_id", "reports_developer_token")
    optional_settings: ClassVar[tuple[str, ...]] = ("reports_login_customer_id", "reports_api_version")
    default_api_base: ClassVar[str] = "https://googleads.googleapis.com"
    finds_by_name: ClassVar[bool] = True

    @classmethod
    def check_values(cls, entry: Mapping[str, Any], key: str) -> list[Any]:
        """socialshop.E166: the customer ids are Google Ads ids; the OAuth client (shared with audiences) is set."""
        problems = customer_id_problems(cls, entry, key, ("reports_customer_id", "reports_login_customer_id"), "socialshop.E166")
        for name in OAUTH_KEYS:
            if entry.get(name) in (None, ""):
                problems.append(cls.value_error(key, entry, name, "the OAuth client of the Google Cloud project with the "
                                                "Google Ads API on (docs/platforms/google.md, Reporting)", "socialshop.E166"))
        return problems


    def query(self, ref: CampaignRef, *, since: date, until: date) -> str:
        """The GAQL query: one row per campaign and day."""
        if ref.id:
            if not ref.id.isdigit():
                raise PlatformAPIError(self.name, f"campaign id {ref.id!r} is not a Google Ads campaign id (digits)")
            where = f"campaign.id = {ref.id}"
        elif NAME_RE.fullmatch(ref.name):
            where = f"campaign.name = '{ref.name}'"
        else:
            raise PlatformAPIError(self.name, f"campaign name {ref.name!r} cannot be searched; enter the campaign id")
        return ("SELECT campaign.id, segments.date, metrics.impressions, metrics.clicks, metrics.cost_micros, "
                f"customer.currency_code FROM campaign WHERE segments.date BETWEEN '{since.isoformat()}' "
                f"AND '{until.isoformat()}' AND {where}")

    def daily_report(self, ref: CampaignRef, *, since: date, until: date) -> list[ReportDay]:
        version = self.config.get("reports_api_version") or DEFAULT_API_VERSION
        path = f"/{version}/customers/{customer_id(self.setting('reports_customer_id'))}/googleAds:searchStream"
        headers = {"developer-token": str(self.setting("reports_developer_token"))}
        if self.config.get("reports_login_customer_id"):
            headers["login-customer-id"] = customer_id(self.config["reports_login_customer_id"])
        call = ApiCall("POST", path, headers=headers, body={"query": self.query(ref, since=since, until=until)})
        token = self.tokens.token()
        try:
            answer = self._call_with(token, call)
        except PlatformAPIError as exc:
            if exc.status != 401:
                raise
            self.tokens.invalidate(token)  # expired early: one fresh token, then a 401 is a credential error
            answer = self._call_with(self.tokens.token(), call)
        if not isinstance(answer, list):
            raise self.malformed(answer)
        days: dict[date, ReportDay] = {}
        for batch in answer:
            for row in (batch.get("results") or []) if isinstance(batch, dict) else []:
                metrics, day = row.get("metrics") or {}, day_of((row.get("segments") or {}).get("date"))
                add = ReportDay(day, count(metrics.get("impressions")), count(metrics.get("clicks")),
                                money(metrics.get("costMicros"), micros=True), str((row.get("customer") or {}).get("currencyCode") or ""))
                seen = days.get(day)
                if seen is not None:
                    add = ReportDay(day, seen.impressions + add.impressions, seen.clicks + add.clicks, seen.spend + add.spend,
                                    seen.currency or add.currency)
                days[day] = add
        return sorted(days.values(), key=lambda d: d.day)

    def _call_with(self, token: str, api_call: ApiCall) -> Any:
        return self.call(ApiCall(api_call.method, api_call.path, params=api_call.params, body=api_call.body,
                                 headers={**api_call.headers, "Authorization": f"Bearer {token}"}))[1]
