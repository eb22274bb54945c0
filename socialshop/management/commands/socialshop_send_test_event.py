"""``manage.py socialshop_send_test_event PLATFORM``: send one test event and print the platform's answer."""
from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from socialshop.exceptions import ConfigurationError
from socialshop.platforms import REGISTRY
from socialshop.platforms.http import PlatformAPIError
from socialshop.platforms.status import send_test_event


class Command(BaseCommand):
    help = "Send one test event to PLATFORM (in its test mode) and print its answer."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("platform", choices=sorted(REGISTRY))

    def handle(self, *args: Any, **options: Any) -> None:
        slug = options["platform"]
        self.stdout.write(f"sending a test event to {slug} ...")
        try:
            result = send_test_event(slug)
        except ConfigurationError as exc:
            raise CommandError(f"{exc} (see docs/platforms/{slug}.md)") from exc
        except PlatformAPIError as exc:
            raise CommandError(f"{slug} refused the test event: {exc}") from exc
        self.stdout.write(f"HTTP {result.status}: {json.dumps(result.response, default=str) if result.response is not None else '(no body)'}")
        self.stdout.write(f"{slug} accepted the test event ({result.sent} received)")
