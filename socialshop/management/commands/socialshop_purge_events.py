"""``manage.py socialshop_purge_events [--days N]``: delete events past retention now, with progress."""
from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from socialshop.exceptions import ConfigurationError, JobLocked
from socialshop.tracking.retention import DEFAULT_BATCH, DEFAULT_PAUSE, purge_old_events


class Command(BaseCommand):
    help = "Delete events older than EVENT_RETENTION_DAYS (or --days) in small batches, with their deliveries."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=None,
                            help="delete events older than this many days, this run only (default: EVENT_RETENTION_DAYS)")
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH, help="events per batch (one short transaction each)")
        parser.add_argument("--max-batches", type=int, default=None, help="stop after this many batches (default: until done)")
        parser.add_argument("--pause", type=float, default=DEFAULT_PAUSE,
                            help=f"seconds to wait between batches at least, leaving room for the collector; a run also waits "
                                 f"as long as its last batch took (default {DEFAULT_PAUSE}; 0: back to back)")
        parser.add_argument("--every", type=int, default=20, help="print progress every this many batches")

    def handle(self, *args: Any, **options: Any) -> None:
        every = max(int(options["every"]), 1)

        def progress(deleted: int, batches: int, name: str) -> None:
            if batches % every == 0:
                self.stdout.write(f"  {batches} batches, {deleted:,} events deleted (now at {name})")

        if options["max_batches"] is not None and options["max_batches"] < 1:
            raise CommandError(f"--max-batches = {options['max_batches']}: use at least 1")
        if options["pause"] < 0:
            raise CommandError(f"--pause = {options['pause']}: use 0 or more seconds")
        try:
            result = purge_old_events(days=options["days"], batch_size=options["batch_size"],
                                      max_batches=options["max_batches"], pause=options["pause"], progress=progress)
        except ConfigurationError as exc:
            raise CommandError(str(exc)) from exc
        except JobLocked as exc:
            raise CommandError(f"{exc}: another retention run is purging; try again when it ends") from exc
        rate = result.deleted / result.seconds if result.seconds > 0 else 0.0
        state = "done" if result.complete else "stopped at --max-batches; run again to continue"
        self.stdout.write(
            f"deleted {result.deleted:,} events older than {result.cutoff:%Y-%m-%d %H:%M} UTC, "
            f"{result.deliveries_deleted:,} deliveries and {result.interest_deleted:,} interest rows, "
            f"in {result.batches} batches, {result.seconds:.1f} s ({rate:,.0f} events/s): {state}")
