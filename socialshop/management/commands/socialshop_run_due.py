"""``manage.py socialshop_run_due``: run once each periodic job that is due, for a store without
Celery beat (cron, every minute). The jobs and their intervals are ``PERIODIC_JOBS`` (core/jobs.py);
the running and recording is core/periodic.py.
"""
from __future__ import annotations

from collections import Counter
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from socialshop.core.periodic import JobOutcome, run_due
from socialshop.exceptions import ConfigurationError


class Command(BaseCommand):
    help = ("Run once each periodic job that is due (feeds, forwarding, retention, ...). Without Celery beat, "
            "run it from cron every minute: * * * * * cd /path && python manage.py socialshop_run_due")

    def handle(self, *args: Any, **options: Any) -> None:
        import socialshop.tasks  # noqa: F401  (registers the tasks the jobs run)

        def progress(outcome: JobOutcome) -> None:
            took = f" in {outcome.seconds:.1f} s" if outcome.status in ("ran", "failed") else ""
            line = f"{outcome.job}: {outcome.status}{took} ({outcome.detail})"
            self.stdout.write(self.style.ERROR(line) if outcome.status == "failed" else line)

        try:
            outcomes = run_due(progress=progress)
        except ConfigurationError as exc:
            raise CommandError(str(exc)) from exc
        counts = Counter(outcome.status for outcome in outcomes)
        self.stdout.write(f"periodic jobs: {counts['ran']} ran, {counts['failed']} failed, "
                          f"{counts['running']} already running elsewhere, {counts['not due']} not due")
        if counts["failed"]:
            failed = ", ".join(o.job for o in outcomes if o.status == "failed")
            raise CommandError(f"periodic job(s) failed: {failed}; see the lines above")
