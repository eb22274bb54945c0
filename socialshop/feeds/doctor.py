"""Diagnostics: feed health and the catalogue-match report (event content_ids vs feed item ids, and each
campaign's product set vs every enabled feed).

Dynamic ads only work when the ids the tag sends are the feed's ids. ``match_report`` compares, as
sets, the ids in recent events with the ids in every enabled feed's live file. Shown in the admin
(``feeds/admin.py``) and by ``manage.py socialshop_doctor``.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import timedelta
from xml.etree.ElementTree import iterparse

from django.utils import timezone

from socialshop.tracking.reads import content_id_counts
from socialshop.feeds.models import BuildStatus, Feed, ProductSetItem
from socialshop.feeds.publishing import feed_storage
from socialshop.feeds.specs import spec_for


def published_ids(feed: Feed) -> set[str]:
    """The item ids in the feed's live file, read as a platform would (empty without a live file)."""
    build = feed.published_build
    if build is None or not build.file_name:
        return set()
    id_column = spec_for(feed.platform).column("id")
    ids: set[str] = set()
    with feed_storage().open(build.file_name, "rb") as handle:
        if feed.file_format == "xml":
            wanted = f"{{{spec_for(feed.platform).xml_namespace}}}{id_column}"
            for _event, element in iterparse(handle, events=("end",)):
                if element.tag == wanted and element.text:
                    ids.add(element.text)
                elif element.tag == "item":
                    element.clear()
        else:
            reader = csv.reader(io.TextIOWrapper(handle, encoding="utf-8", newline=""),
                                delimiter="," if feed.file_format == "csv" else "\t")
            header = next(reader, [])
            if id_column in header:
                index = header.index(id_column)
                ids.update(row[index] for row in reader if len(row) > index and row[index])
    return ids


@dataclass(frozen=True, slots=True)
class SetCoverage:
    """One product set (a campaign's picks) against the enabled feeds: the picked ids a feed's live file lacks."""

    name: str
    products: int
    missing: dict[str, list[str]]  # feed slug -> missing ids (the first ``limit``), only feeds that miss some
    missing_total: dict[str, int]

    @property
    def complete(self) -> bool:
        return not self.missing_total


@dataclass(slots=True)
class MatchReport:
    """Ids in recent events but in no enabled feed, and feed ids no event ever named."""

    days: int
    event_ids: int
    feed_ids: int
    missing_from_feeds: list[tuple[str, int]]  # (id, events in the window), most-used first
    missing_total: int
    never_referenced: list[str]
    never_referenced_total: int
    feeds_checked: list[str] = field(default_factory=list)
    feeds_without_file: list[str] = field(default_factory=list)
    product_sets: list[SetCoverage] = field(default_factory=list)

    @property
    def match_rate(self) -> float | None:
        """Share of recent event ids found in a feed (None without recent event ids)."""
        return None if not self.event_ids else 1 - self.missing_total / self.event_ids


def match_report(*, days: int = 30, limit: int = 50) -> MatchReport:
    """Compare recent event content_ids (last ``days``) with the items of every enabled feed."""
    feeds = list(Feed.objects.filter(enabled=True).select_related("published_build").order_by("slug"))
    in_feeds: set[str] = set()
    without_file = []
    per_feed: dict[str, set[str]] = {}
    for feed in feeds:
        ids = per_feed[feed.slug] = published_ids(feed)
        if not ids:
            without_file.append(feed.slug)
        in_feeds |= ids
    recent = content_id_counts(since=timezone.now() - timedelta(days=days))
    missing = sorted(((cid, n) for cid, n in recent.items() if cid not in in_feeds), key=lambda kv: (-kv[1], kv[0]))
    ever = content_id_counts() if in_feeds else {}
    never = sorted(in_feeds.difference(ever))
    return MatchReport(
        days=days, event_ids=len(recent), feed_ids=len(in_feeds), missing_from_feeds=missing[:limit],
        missing_total=len(missing), never_referenced=never[:limit], never_referenced_total=len(never),
        feeds_checked=[f.slug for f in feeds], feeds_without_file=without_file,
        product_sets=set_coverage(per_feed, limit=limit),
    )


def set_coverage(per_feed: dict[str, set[str]], *, limit: int = 50) -> list[SetCoverage]:
    """For each product set, the picked ids missing from each enabled feed's live file (dynamic ads of that
    platform cannot show them); ``per_feed`` is feed slug -> ids in its live file. One query."""
    sets: dict[str, set[str]] = {}
    for name, product_id in ProductSetItem.objects.values_list("name", "product_id"):
        sets.setdefault(name, set()).add(product_id)
    out = []
    for name in sorted(sets):
        gaps = {slug: sorted(sets[name] - ids) for slug, ids in per_feed.items()}
        gaps = {slug: missing for slug, missing in gaps.items() if missing}
        out.append(SetCoverage(name=name, products=len(sets[name]), missing={k: v[:limit] for k, v in gaps.items()},
                               missing_total={k: len(v) for k, v in gaps.items()}))
    return out


@dataclass(frozen=True, slots=True)
class FeedHealth:
    """One feed's state for the doctor: its live build and its latest build."""

    slug: str
    enabled: bool
    live_items: int | None
    live_age_hours: float | None
    last_status: str
    last_message: str
    problem: str


def feed_health() -> list[FeedHealth]:
    """A line per feed; ``problem`` is '' when the feed is fine."""
    now = timezone.now()
    out = []
    for feed in Feed.objects.select_related("published_build").order_by("slug"):
        live = feed.published_build
        last = feed.builds.order_by("-started_at", "-pk").first()
        # Freshness is the last build that succeeded: an unchanged rebuild keeps the old live file.
        fresh = feed.builds.filter(status__in=(BuildStatus.PUBLISHED, BuildStatus.UNCHANGED)).order_by("-started_at").first()
        age = None if fresh is None or fresh.finished_at is None else (now - fresh.finished_at).total_seconds() / 3600
        problem = ""
        if feed.enabled and live is None:
            problem = "no live file: build it (socialshop_build_feeds)"
        elif last is not None and last.status in (BuildStatus.FAILED, BuildStatus.REFUSED):
            problem = f"last build {last.status}: {last.message}"
        elif feed.enabled and age is not None and age > 2 * max(feed.build_interval_minutes, 15) / 60 + 1:
            problem = f"live file is {age:.0f} hours old: is the Celery beat running?"
        out.append(FeedHealth(
            slug=feed.slug, enabled=feed.enabled, live_items=live.items_written if live else None,
            live_age_hours=age, last_status=last.status if last else "never built",
            last_message=last.message if last else "", problem=problem,
        ))
    return out
