"""``manage.py socialshop_simulate --visitors N --days D``: simulated storefront traffic (tracking/simulate.py)."""
from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from django.template.defaultfilters import pluralize

from socialshop.exceptions import SocialshopError
from socialshop.posts.engagement import posts_for_simulation
from socialshop.tracking.simulate import simulate_traffic


class Command(BaseCommand):
    help = "Generate realistic storefront traffic (events, including engagement with published posts) for demos and benchmarks."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--visitors", type=int, default=1000, help="visitors to simulate (default 1000)")
        parser.add_argument("--days", type=int, default=14, help="spread over the last D days (default 14)")
        parser.add_argument("--seed", type=int, default=None, help="random seed for a repeatable run")

    def handle(self, *args: Any, **options: Any) -> None:
        visitors, days = options["visitors"], options["days"]
        if visitors < 1 or days < 1:
            raise CommandError("--visitors and --days must be at least 1")
        started = time.monotonic()

        def progress(done: int, total: int) -> None:
            self.stdout.write(f"  {done}/{total} visitors")

        try:
            result = simulate_traffic(visitors=visitors, days=days, seed=options["seed"], progress=progress,
                                      posts=posts_for_simulation())
        except SocialshopError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(
            f"Simulated {result.visitors} visitor{pluralize(result.visitors)} over {days} day{pluralize(days)}: {result.events} events stored "
            f"({result.purchases} purchases, {result.bot_events} bot events filtered) in {time.monotonic() - started:.1f}s"
        ))
