"""``manage.py socialshop_render_ads CAMPAIGN_SLUG``: render the campaign's creatives now (CONTRACT.md)."""
from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from socialshop.campaigns.creatives.builder import render_ads
from socialshop.campaigns.models import Campaign
from socialshop.exceptions import JobLocked


class Command(BaseCommand):
    help = "Render the campaign's ad creatives (every variant, 1080x1080, 1080x1920 and 1200x628) into storage now."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", metavar="CAMPAIGN_SLUG", help="the campaign to render")
        parser.add_argument("--product", action="append", dest="products", metavar="ID",
                            help="render for this catalog id instead of the members' most viewed (repeatable)")

    def handle(self, *args: Any, **options: Any) -> None:
        slug: str = options["slug"]
        campaign = Campaign.objects.filter(slug=slug).first()
        if campaign is None:
            known = ", ".join(Campaign.objects.order_by("slug").values_list("slug", flat=True)) or "none"
            raise CommandError(f"no campaign with slug {slug!r}; known: {known}")
        started = time.monotonic()

        def progress(done: int, total: int) -> None:
            self.stdout.write(f"  {done}/{total} images")

        try:
            run = render_ads(campaign, product_ids=options["products"], progress=progress)
        except JobLocked:
            raise CommandError(f"{slug}: creatives are already being rendered; try again when that run ends") from None
        if not run.ok:
            raise CommandError(f"{slug}: rendering failed: {run.message}")
        self.stdout.write(self.style.SUCCESS(f"{slug}: {run.message} ({time.monotonic() - started:.1f}s)"))
