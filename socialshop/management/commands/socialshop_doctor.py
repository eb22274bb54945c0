"""``manage.py socialshop_doctor [--days N]``: feed health and the catalogue-match report."""
from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from socialshop.feeds.doctor import feed_health, match_report


class Command(BaseCommand):
    help = "Check feeds: live files, failed or refused builds, and event content_ids vs feed item ids."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=30, help="event window for the match report (default 30)")
        parser.add_argument("--limit", type=int, default=20, help="example ids to list per finding (default 20)")

    def handle(self, *args: Any, **options: Any) -> None:
        problems = 0
        self.stdout.write("Feeds:")
        health = feed_health()
        if not health:
            self.stdout.write("  no feeds configured")
        for line in health:
            state = "enabled" if line.enabled else "disabled"
            live = f"{line.live_items} items live, {line.live_age_hours:.1f}h old" if line.live_items is not None else "nothing live"
            self.stdout.write(f"  {line.slug} ({state}): {live}; last build {line.last_status}")
            if line.problem:
                problems += 1
                self.stdout.write(self.style.WARNING(f"    problem: {line.problem}"))
        self.stdout.write("Progress: reading live feed files and events...")
        report = match_report(days=options["days"], limit=options["limit"])
        self.stdout.write(f"Catalogue match (events of the last {report.days} days vs {len(report.feeds_checked)} enabled feeds):")
        rate = "n/a" if report.match_rate is None else f"{report.match_rate:.1%}"
        self.stdout.write(f"  {report.event_ids} ids in recent events, {report.feed_ids} ids in feeds, match rate {rate}")
        if report.missing_total:
            problems += 1
            self.stdout.write(self.style.WARNING(
                f"  {report.missing_total} event ids are in no enabled feed (dynamic ads cannot show them):"))
            for cid, count in report.missing_from_feeds:
                self.stdout.write(f"    {cid}  ({count} events)")
        if report.never_referenced_total:
            self.stdout.write(f"  {report.never_referenced_total} feed items were never named by any event, e.g.: "
                              + ", ".join(report.never_referenced[:10]))
        if report.feeds_without_file:
            self.stdout.write(f"  enabled feeds with nothing live: {', '.join(report.feeds_without_file)}")
        for coverage in report.product_sets:
            if coverage.complete:
                self.stdout.write(f"  product set {coverage.name}: all {coverage.products} picked ids are in every enabled feed")
                continue
            problems += 1
            for slug, total in coverage.missing_total.items():
                self.stdout.write(self.style.WARNING(
                    f"  product set {coverage.name}: {total} of {coverage.products} picked ids missing from feed {slug}: "
                    + ", ".join(coverage.missing[slug][:10])))
        summary = (f"doctor: {len(health)} feeds, {problems} problem(s), {report.missing_total} event ids missing "
                   f"from feeds, {report.never_referenced_total} feed items never referenced")
        self.stdout.write(self.style.WARNING(summary) if problems else self.style.SUCCESS(summary))
