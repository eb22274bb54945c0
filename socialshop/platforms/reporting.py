"""The reporting capability: a platform's daily impressions, clicks and spend for one of its ad campaigns.

``Reporting.daily_report(ref, since=, until=)`` returns ``ReportDay`` rows; campaigns/reports.py pulls
them for every campaign on a schedule and stores them (``PlatformReport``). Each platform's module
(meta/reporting.py, pinterest/reporting.py, tiktok/reporting.py, google/reporting.py) says how its
reporting API is asked and read. The recipe is docs/adding-a-platform.md.
"""
from __future__ import annotations

import abc
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from socialshop.exceptions import ConfigurationError
from socialshop.platforms.base import Capability
from socialshop.platforms.http import PlatformAPIError


@dataclass(frozen=True, slots=True)
class CampaignRef:
    """Which ad campaign on the platform: its ``id`` when the marketer entered one, else its ``name``."""

    name: str
    id: str = ""


@dataclass(frozen=True, slots=True)
class ReportDay:
    """One reporting day of one ad campaign; ``currency`` is "" when the answer does not say."""

    day: date
    impressions: int
    clicks: int
    spend: Decimal
    currency: str = ""


class Reporting(Capability):
    """Read delivery figures (impressions, clicks, spend) per day for an ad campaign."""

    kind: ClassVar[str] = "reporting"
    label: ClassVar[str] = "reporting"
    opt_in: ClassVar[bool] = True
    # The longest date range one request may cover (days); longer ranges are asked in pieces.
    max_days: ClassVar[int] = 90
    # Whether the platform can find an ad campaign by its name; otherwise an id must be entered.
    finds_by_name: ClassVar[bool] = False

    @abc.abstractmethod
    def daily_report(self, ref: CampaignRef, *, since: date, until: date) -> list[ReportDay]:
        """Daily rows from ``since`` to ``until`` (both included) for the ad campaign ``ref``.

        Raises ``PlatformAPIError`` with the platform's words (retryable for 429/5xx, with Retry-After),
        ``ConfigurationError`` when ``ref`` has no id and the platform cannot search by name.
        """

    def need_id(self, ref: CampaignRef) -> str:
        """The campaign id, or ``ConfigurationError`` saying where to enter it."""
        if not ref.id:
            raise ConfigurationError(f"{self.name} reports need the ad campaign's id: enter it under "
                                     f"platform_campaigns[{self.slug!r}] on campaign {ref.name!r}")
        return ref.id

    def malformed(self, answer: Any) -> PlatformAPIError:
        """The error for an answer that is not the documented shape (retried: it may be a proxy's page)."""
        return PlatformAPIError(self.name, f"unexpected report answer {str(answer)[:200]!r}", retryable=True)


def count(value: Any) -> int:
    """A platform's count ("1234", 1234, 1234.0, None) as an int."""
    try:
        return int(Decimal(str(value or 0)))
    except (InvalidOperation, ValueError):
        return 0


def money(value: Any, *, micros: bool = False) -> Decimal:
    """A platform's amount ("12.34", 12.34, or micro-units) as Decimal with cents."""
    try:
        amount = Decimal(str(value or 0))
    except InvalidOperation:
        amount = Decimal("0")
    if micros:
        amount /= Decimal(1_000_000)
    return amount.quantize(Decimal("0.01"))


def day_of(value: Any) -> date:
    """A platform's day ("2026-11-01", "2026-11-01 00:00:00", "2026-11-01T00:00:00") as a date."""
    return date.fromisoformat(str(value)[:10])
