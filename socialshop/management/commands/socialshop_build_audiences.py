"""``manage.py socialshop_build_audiences [SLUG ...] [--sync]``: rebuild audiences now (CONTRACT.md)."""
from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from socialshop.audiences.builder import build_audience
from socialshop.audiences.models import Audience, BuildStatus
from socialshop.audiences.sync import sync_audiences
from socialshop.exceptions import ConfigurationError, JobLocked


class Command(BaseCommand):
    help = "Rebuild every enabled audience (or the named ones) now; --sync also uploads the changes to the platforms."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slugs", nargs="*", metavar="SLUG", help="audiences to build (default: every enabled audience)")
        parser.add_argument("--sync", action="store_true", help="then upload each audience's changes to every connected platform")

    def handle(self, *args: Any, **options: Any) -> None:
        slugs: list[str] = options["slugs"]
        if slugs:
            audiences = list(Audience.objects.filter(slug__in=slugs).order_by("slug"))
            unknown = sorted(set(slugs) - {a.slug for a in audiences})
            if unknown:
                known = ", ".join(Audience.objects.values_list("slug", flat=True)) or "none"
                raise CommandError(f"no audience with slug {', '.join(unknown)}; known: {known}")
        else:
            audiences = list(Audience.objects.filter(enabled=True).order_by("slug"))
            if not audiences:
                raise CommandError("no enabled audiences: add one in the admin (socialshop > audiences)")
        failed: list[str] = []
        built: list[Audience] = []
        for n, audience in enumerate(audiences, 1):
            started = time.monotonic()
            try:
                build = build_audience(audience, progress=self.stdout.write if options["verbosity"] > 1 else None)
            except JobLocked:
                self.stdout.write(f"[{n}/{len(audiences)}] {audience.slug}: another build is running; skipped")
                continue
            if build.status == BuildStatus.FAILED:
                failed.append(audience.slug)
                self.stdout.write(self.style.ERROR(f"[{n}/{len(audiences)}] {audience.slug}: failed: {build.error}"))
                continue
            built.append(audience)
            self.stdout.write(f"[{n}/{len(audiences)}] {audience.slug}: {build.size} members "
                              f"(+{build.added} -{build.removed}) in {time.monotonic() - started:.1f}s")
        if options["sync"] and built:
            try:
                for result in sync_audiences(audiences=built):
                    self.stdout.write(f"  sync {result.platform}: {result.state}")
            except ConfigurationError as exc:
                raise CommandError(str(exc)) from exc
        summary = f"built {len(built)} of {len(audiences)} audiences"
        if failed:
            raise CommandError(f"{summary}; failed: {', '.join(failed)}")
        self.stdout.write(self.style.SUCCESS(summary))
