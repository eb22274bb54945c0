"""Customer-list import benchmark: ``import_list`` on a generated 1,000,000-row CSV against hashing alone.

The file is made on the fly as it is read (it never exists whole). Each size runs in its own process
in a throwaway test database (SQLite by default, PostgreSQL when DATABASE_URL is set), so the peak
resident memory of the small and the full import can be compared. The baseline is
``hash_user_data`` over the same rows in memory, without CSV or database: the last line prints the
import/baseline rows-per-second ratio and the full/small peak-memory ratio.

    python bench/lists.py                        # 1,000,000 rows, small size 100,000 (several minutes)
    python bench/lists.py --rows 200000 --small 20000
"""
from __future__ import annotations

import argparse
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HEADER = "email,phone,first_name,last_name,country,zip\n"
MAPPING = {"email": 0, "phone": 1, "first_name": 2, "last_name": 3, "country": 4, "postcode": 5}


def line(n: int) -> str:
    return f"Person.{n}@Example.com,+1 (650) 555-{n % 10000:04d},First{n},Last{n},US,{94000 + n % 999}\n"


class GeneratedCsv(io.RawIOBase):
    """``rows`` customers as CSV bytes, produced as they are read."""

    def __init__(self, rows: int) -> None:
        self._lines: Iterator[bytes] = (s.encode() for s in self._make(rows))
        self._pending = b""

    @staticmethod
    def _make(rows: int) -> Iterator[str]:
        yield HEADER
        for n in range(rows):
            yield line(n)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while len(self._pending) < len(buffer):
            chunk = next(self._lines, None)
            if chunk is None:
                break
            self._pending += chunk
        out, self._pending = self._pending[:len(buffer)], self._pending[len(buffer):]
        buffer[:len(out)] = out
        return len(out)


def child(rows: int) -> None:
    """Import ``rows`` rows into a fresh test database; print seconds and peak RSS as JSON."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop_demo.settings")
    os.environ["SHOP_DEMO_VAR"] = tempfile.mkdtemp(prefix="ss-bench-lists-")
    os.environ["DJANGO_DEBUG"] = "0"
    import django

    django.setup()
    from django.db import connection

    from socialshop.audiences.lists import import_list
    from socialshop.audiences.models import Audience, CustomerListEntry, RuleKind

    old_name = connection.settings_dict["NAME"]
    if connection.vendor == "sqlite":
        connection.settings_dict.setdefault("TEST", {})["NAME"] = str(Path(os.environ["SHOP_DEMO_VAR"]) / "bench.sqlite3")
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        audience = Audience.objects.create(name="Bench", slug="bench", kind=RuleKind.CUSTOMER_LIST)
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        result = import_list(audience, io.BufferedReader(GeneratedCsv(rows)), mapping=MAPPING, default_country="US")
        seconds = time.perf_counter() - started
        stored = CustomerListEntry.objects.filter(audience=audience).count()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps({"rows": rows, "imported": result.imported, "stored": stored, "seconds": seconds,
                          "peak_kb": peak, "before_kb": base, "vendor": connection.vendor}))
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def baseline(rows: int) -> float:
    """Rows per second of ``hash_user_data`` alone over the same values."""
    sys.path.insert(0, str(ROOT))
    from socialshop.platforms.hashing import hash_user_data

    started = time.perf_counter()
    for n in range(rows):
        cells = line(n).rstrip("\n").split(",")
        hash_user_data(dict(zip(("email", "phone", "first_name", "last_name", "country", "postcode"), cells, strict=True)))
    return rows / (time.perf_counter() - started)


def run_child(rows: int) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, "--child", str(rows)], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows at full size")
    parser.add_argument("--small", type=int, default=100_000, help="rows at the small size")
    parser.add_argument("--child", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    small, full = run_child(args.small), run_child(args.rows)
    for run in (small, full):
        assert run["imported"] == run["stored"] == run["rows"], run
        print(f"{run['vendor']}: {run['rows']:,} rows in {run['seconds']:.1f} s ({run['rows'] / run['seconds']:,.0f} rows/s), "
              f"peak RSS {run['peak_kb'] / 1024:.0f} MB (before the import {run['before_kb'] / 1024:.0f} MB)")
    hashing = baseline(min(args.small, 100_000))
    ratio = (full["rows"] / full["seconds"]) / hashing
    memory = full["peak_kb"] / small["peak_kb"]
    print(f"hash_user_data alone: {hashing:,.0f} rows/s")
    print(f"lists on {full['vendor']}: import/hashing rows/s ratio {ratio:.2f}, "
          f"peak memory {args.rows:,}/{args.small:,} rows {memory:.2f} (flat: <= 1.10)")


if __name__ == "__main__":
    main()
