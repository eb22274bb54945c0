"""``manage.py socialshop_erase_visitor VISITOR_ID [...]``: a right-to-erasure request, with a summary per table."""
from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from socialshop.privacy.erasure import MAX_IDS, ErasureError, clean_visitor_ids, erase_visitors


class Command(BaseCommand):
    help = ("Remove everything socialshop holds under these visitor ids (the ss_vid cookie): events, deliveries, "
            "interest, consent, links, audience and campaign rows. One transaction.")

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        refuse = parser.error

        def error(message: str) -> None:  # an id beginning with "-" reads as an option ("unrecognized arguments: -r2x…")
            refuse(f"{message} (a visitor id that begins with '-' goes after '--': "
                   f"manage.py {subcommand} -- -r2xPrw… ID ...)")

        parser.error = error  # type: ignore[method-assign]
        return parser

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("visitor_ids", nargs="*", help="visitor ids (the ss_vid cookie's value); put ids that "
                                                           "begin with '-' after '--'")
        parser.add_argument("--stdin", action="store_true", help="also read visitor ids from standard input, one a line")

    def handle(self, *args: Any, **options: Any) -> None:
        ids = list(options["visitor_ids"])
        if options["stdin"]:
            ids += [line.strip() for line in sys.stdin if line.strip()]
        if not ids:
            raise CommandError("name at least one visitor id (or pass --stdin)")
        chunks = [ids[i:i + MAX_IDS] for i in range(0, len(ids), MAX_IDS)]
        totals: dict[str, int] = {}
        try:
            for chunk in chunks:  # every id checked before anything is erased
                clean_visitor_ids(chunk)
            for number, chunk in enumerate(chunks, start=1):
                result = erase_visitors(chunk)
                for label, count in result.rows.items():
                    totals[label] = totals.get(label, 0) + count
                if len(chunks) > 1:
                    self.stdout.write(f"  {number}/{len(chunks)}: {result.visitors} visitors, {result.total:,} rows")
        except ErasureError as exc:
            raise CommandError(f"{exc}; nothing of that request was erased") from exc
        detail = ", ".join(f"{count:,} {label}" for label, count in sorted(totals.items()) if count) or "nothing was held"
        self.stdout.write(f"erased {len(set(ids))} visitor ids: {detail}")
