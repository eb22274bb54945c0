"""``manage.py socialshop_send_cart_reminders [--campaign SLUG]``: send the abandoned-cart emails due now (CONTRACT.md)."""
from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from socialshop.campaigns.email import SKIP_REASONS, send_cart_reminders
from socialshop.campaigns.models import Campaign


class Command(BaseCommand):
    help = "Send the abandoned-cart emails that are due now (every running campaign on the email channel, or one)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--campaign", metavar="SLUG", help="only this campaign")

    def handle(self, *args: Any, **options: Any) -> None:
        campaign = None
        if options["campaign"]:
            campaign = Campaign.objects.filter(slug=options["campaign"]).first()
            if campaign is None:
                known = ", ".join(Campaign.objects.values_list("slug", flat=True)) or "none"
                raise CommandError(f"no campaign with slug {options['campaign']!r}; known: {known}")
        run = send_cart_reminders(campaign=campaign, progress=self.stdout.write)
        for reason, count in sorted(run.skipped.items()):
            self.stdout.write(f"  skipped {count}: {SKIP_REASONS.get(reason, reason)}")
        if run.message and not run.campaigns:
            raise CommandError(run.message)
        if not run.campaigns:
            self.stdout.write("no running campaign on the email channel")
        line = f"{len(run.campaigns)} campaigns: {run.summary()}"
        if run.failed:
            raise CommandError(f"{line}; the failed emails are tried again by the next run")
        self.stdout.write(self.style.SUCCESS(line))
