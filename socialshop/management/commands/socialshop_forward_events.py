"""``manage.py socialshop_forward_events [--platform SLUG]``: make missing outbox rows, then send what is due."""
from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from socialshop.exceptions import ConfigurationError
from socialshop.platforms import REGISTRY, get_platform
from socialshop.tracking.forwarding import forward_events
from socialshop.tracking.outbox import create_deliveries


class Command(BaseCommand):
    help = "Send pending outbox deliveries to the platforms now."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--platform", choices=sorted(REGISTRY), help="only this platform")
        parser.add_argument("--max-seconds", type=float, default=None, help="stop after this many seconds (default: FORWARD_TIME_BUDGET_SECONDS)")

    def handle(self, *args: Any, **options: Any) -> None:
        slug = options["platform"]
        try:
            outbox = create_deliveries(platforms=None if not slug else {slug: get_platform(slug)})
            self.stdout.write(f"outbox: {sum(outbox.pending.values())} new pending, {sum(outbox.skipped.values())} skipped")
            results = forward_events(platform=slug, max_seconds=options["max_seconds"])
        except ConfigurationError as exc:
            raise CommandError(str(exc)) from exc
        halted = []
        for name, r in results.items():
            line = f"{name}: {r.sent} sent, {r.failed} failed, {r.skipped} skipped, {r.retried} to retry"
            self.stdout.write(line + (f" — stopped: {r.stopped}" if r.stopped else ""))
            if "credentials" in r.stopped:
                halted.append(name)
        total = sum(r.sent for r in results.values())
        self.stdout.write(f"forwarded {total} events to {len(results)} platform(s)")
        if halted:
            raise CommandError(f"credentials refused by {', '.join(halted)}: fix SOCIALSHOP['PLATFORMS'] and run again")

