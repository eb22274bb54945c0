"""``manage.py socialshop_sync_audiences [--platform SLUG]``: upload each audience's changes now (CONTRACT.md)."""
from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from socialshop.audiences.models import Audience
from socialshop.audiences.sync import sync_audience
from socialshop.exceptions import ConfigurationError
from socialshop.platforms import REGISTRY, configured_platforms, get_platform


class Command(BaseCommand):
    help = "Upload each enabled audience's changes since its last upload to every platform with audience uploads on."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--platform", choices=sorted(REGISTRY), help="only this platform")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            platforms = ({options["platform"]: get_platform(options["platform"])} if options["platform"]
                         else configured_platforms("audiences"))
        except ConfigurationError as exc:
            raise CommandError(str(exc)) from exc
        if not platforms:
            raise CommandError("no platform has audience uploads set up: add e.g. SOCIALSHOP['PLATFORMS']['meta']"
                               "['ad_account_id'] (docs/audiences.md)")
        audiences = list(Audience.objects.filter(enabled=True).order_by("slug"))
        sent = failed = 0
        halted: list[str] = []
        for audience in audiences:
            for slug, platform in platforms.items():
                if not platform.is_active("audiences"):
                    raise CommandError(f"{platform.name} audience uploads are not set up (docs/platforms/{slug}.md)")
                result = sync_audience(audience, platform)
                self.stdout.write(f"{audience.slug} → {slug}: +{result.queued_adds} -{result.queued_removes} queued; {result.state}")
                if result.drain is not None:
                    sent += result.drain.sent
                    failed += result.drain.failed
                    if "credentials" in result.drain.stopped:
                        halted.append(slug)
        self.stdout.write(f"synced {len(audiences)} audiences to {len(platforms)} platform(s): {sent} members sent, {failed} failed")
        if halted:
            raise CommandError(f"credentials refused by {', '.join(sorted(set(halted)))}: fix SOCIALSHOP['PLATFORMS'] and run again")
