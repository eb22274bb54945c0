"""Optional write buffer for the collector (``COLLECT_BUFFER_MS`` > 0): rows wait in process memory
and a background thread writes them with one ``store_events`` call per interval.

Durability window: events accepted in the last ``COLLECT_BUFFER_MS`` are lost if the process is
killed hard (SIGKILL, OOM); a normal exit (SIGTERM to gunicorn, Ctrl-C) drains the buffer first.
"""
from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections import OrderedDict
from typing import Any

from socialshop.tracking.store import store_events

logger = logging.getLogger(__name__)
RECENT_IDS = 100_000  # event_ids this process remembers to answer replays as duplicates
MAX_ROWS = 20_000  # beyond this the request writes synchronously (backpressure, bounded memory)
FLUSH_ROWS = 1000  # at most this many rows per INSERT (PostgreSQL parameter and size limits)


class EventBuffer:
    """Per-process queue of Event rows with a flusher thread (started on first use after fork)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._writing = threading.Lock()  # held while a batch is taken and written
        self._rows: list[dict[str, Any]] = []
        self._recent: OrderedDict[str, None] = OrderedDict()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._interval = 0.2
        self._async_commit = True

    def add(self, rows: list[dict[str, Any]], *, interval_ms: int, async_commit: bool) -> tuple[int, int] | None:
        """Queue rows; returns (accepted, duplicates) or None when the buffer is full (caller stores)."""
        with self._lock:
            if len(self._rows) >= MAX_ROWS:
                return None
            self._interval, self._async_commit = interval_ms / 1000, async_commit
            self._ensure_thread()
            accepted = duplicates = 0
            for row in rows:
                key = row["event_id"]
                if key in self._recent:
                    duplicates += 1
                    continue
                self._recent[key] = None
                if len(self._recent) > RECENT_IDS:
                    self._recent.popitem(last=False)
                self._rows.append(row)
                accepted += 1
            return accepted, duplicates

    def _ensure_thread(self) -> None:
        if self._thread is not None and self._thread.is_alive() and self._pid == os.getpid():
            return
        self._pid = os.getpid()
        self._rows, self._recent = [], OrderedDict()  # never inherit a parent's rows across fork
        self._thread = threading.Thread(target=self._run, name="socialshop-collect-buffer", daemon=True)
        self._thread.start()
        atexit.register(self.drain)

    def _take(self) -> list[dict[str, Any]]:
        with self._lock:
            rows, self._rows = self._rows, []
        return rows

    def _write(self, rows: list[dict[str, Any]]) -> None:
        for start in range(0, len(rows), FLUSH_ROWS):
            chunk = rows[start:start + FLUSH_ROWS]
            for attempt in range(3):
                try:
                    store_events(chunk, async_commit=self._async_commit)
                    break
                except Exception:  # noqa: BLE001 - a database hiccup must not kill the flusher
                    from django.db import connection

                    connection.close()
                    if attempt == 2:
                        logger.exception("dropped %d buffered events after 3 failed writes", len(chunk))
                    time.sleep(0.5 * (attempt + 1))

    def _run(self) -> None:
        while True:
            time.sleep(self._interval)
            self.drain()

    def drain(self) -> int:
        """Write everything queued now (the flusher, at exit, tests); waits for a write in flight."""
        with self._writing:
            rows = self._take()
            if rows:
                self._write(rows)
        return len(rows)


event_buffer = EventBuffer()
