"""``manage.py socialshop_build_feeds [SLUG ...] [--print-urls] [--force] [--allow-empty] [--create-missing]``: build
feeds now (CONTRACT.md); ``--create-missing`` first adds a feed for each configured platform without one."""
from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from socialshop.conf import app_settings
from socialshop.exceptions import JobLocked
from socialshop.feeds.builder import build_feed
from socialshop.feeds.models import BuildStatus, Feed, configured_platforms, create_missing_feeds


class Command(BaseCommand):
    help = "Build every enabled feed (or the named ones) now; --print-urls prints each feed's URL with its token."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slugs", nargs="*", metavar="SLUG", help="feeds to build (default: every enabled feed)")
        parser.add_argument("--print-urls", action="store_true", help="print each feed's full URL, token included")
        parser.add_argument("--force", action="store_true", help="publish even when the feed shrank (never an empty one)")
        parser.add_argument("--allow-empty", action="store_true",
                            help="also publish a build with no items (deletes every product on the platform)")
        parser.add_argument("--create-missing", action="store_true",
                            help="first create a feed for each platform in SOCIALSHOP['PLATFORMS'] that has none "
                                 "(currency, country and language from the store's settings)")

    def handle(self, *args: Any, **options: Any) -> None:
        slugs: list[str] = options["slugs"]
        if options["create_missing"]:
            for feed in create_missing_feeds():
                self.stdout.write(f"created feed {feed.slug} ({feed.platform}, {feed.file_format}, "
                                  f"{feed.currency}, {feed.target_country}, {feed.language})")
        if slugs:
            feeds = list(Feed.objects.filter(slug__in=slugs).order_by("slug"))
            unknown = sorted(set(slugs) - {f.slug for f in feeds})
            if unknown:
                raise CommandError(f"no feed with slug {', '.join(unknown)}; known: {', '.join(Feed.objects.values_list('slug', flat=True)) or 'none'}")
        else:
            feeds = list(Feed.objects.filter(enabled=True).order_by("slug"))
            if not feeds:
                raise CommandError(_no_feeds_message())
        counts: dict[str, int] = {}
        problems: list[str] = []
        verbose = options["verbosity"] > 1
        for feed in feeds:
            started = time.monotonic()

            def progress(read: int, written: int, slug: str = feed.slug) -> None:
                if verbose:
                    self.stdout.write(f"  {slug}: {read} records read, {written} written")

            try:
                build = build_feed(feed, progress=progress, force=options["force"], allow_empty=options["allow_empty"])
            except JobLocked:
                counts["already running"] = counts.get("already running", 0) + 1
                self.stdout.write(f"{feed.slug}: another build of this feed is running; skipped")
                continue
            counts[build.status] = counts.get(build.status, 0) + 1
            line = (f"{feed.slug}: {build.get_status_display().lower()}: {build.items_written} written, "
                    f"{build.items_skipped} skipped, {build.items_warned} with warnings "
                    f"in {time.monotonic() - started:.1f}s")
            if build.message and build.status in (BuildStatus.FAILED, BuildStatus.REFUSED):
                line += f" ({build.message})"
            self.stdout.write(line)
            for reason in build.top_reasons(3) if build.items_skipped or build.items_warned else []:
                self.stdout.write(f"    {reason['severity']} {reason['code']}: {reason['count']} "
                                  f"(e.g. {', '.join(reason['examples'][:3])})")
            if build.status in (BuildStatus.FAILED, BuildStatus.REFUSED):
                problems.append(f"{feed.slug} {build.status}")
            if not feed.enabled:
                self.stdout.write(f"    note: {feed.slug} is disabled, so its URL answers 404 until enabled")
            if options["print_urls"]:
                self.stdout.write(f"    {feed.url()}")
        if options["print_urls"] and not app_settings.SITE_URL:
            self.stdout.write(self.style.WARNING("SOCIALSHOP['SITE_URL'] is not set: the URLs above lack the host"))
        summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        if problems:
            raise CommandError(f"built {len(feeds)} feeds: {summary}; not published: {', '.join(problems)}")
        self.stdout.write(self.style.SUCCESS(f"built {len(feeds)} feeds: {summary}"))


def _no_feeds_message() -> str:
    platforms = configured_platforms()
    if not platforms:
        return ("no enabled feeds and no platforms in SOCIALSHOP['PLATFORMS']: configure a platform, then run "
                "`python manage.py socialshop_build_feeds --create-missing`, or add a feed in the admin (socialshop > feeds)")
    return (f"no enabled feeds: `python manage.py socialshop_build_feeds --create-missing` creates one per configured "
            f"platform ({', '.join(platforms)}) and builds it; or add one in the admin (socialshop > feeds)")
