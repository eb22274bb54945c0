"""Optional write buffer for the collector (``COLLECT_BUFFER_MS`` > 0): rows wait in process memory
and a background thread writes them with one INSERT per interval (up to ``FLUSH_ROWS`` rows).

Durability window: events accepted in the last ``COLLECT_BUFFER_MS`` (plus a write in flight) are
lost if the process is killed hard (SIGKILL, OOM); a normal exit (SIGTERM to gunicorn, Ctrl-C)
drains the buffer first (atexit).
"""
from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from typing import Any

from django.db import connection

from socialshop.tracking.store import encode_batch, rows_of, store_encoded, store_events

logger = logging.getLogger(__name__)
RECENT_IDS = 50_000  # event_ids per generation this process remembers (two generations: 50-100k)
MAX_ROWS = 20_000  # beyond this the request writes synchronously (backpressure, bounded memory)
FLUSH_ROWS = 5000  # at most this many rows per INSERT (one flush of a busy worker; ~3 MB of JSON)


class EventBuffer:
    """Per-process queue of Event rows with a flusher thread (started on first use after fork).

    On PostgreSQL each request's accepted rows are queued already encoded (``encode_batch``): one
    string per request instead of dicts, so queued events cost Python's garbage collector nothing
    (queued dicts were promoted to the old generation and made full collections, tens of ms each,
    frequent) and the flusher only joins strings. Other databases queue the row dicts.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._writing = threading.Lock()  # held while a batch is taken and written
        self._queue: list[tuple[int, str | list[dict[str, Any]]]] = []  # (row count, encoded rows or rows)
        self._count = 0  # rows queued
        self._recent: set[str] = set()  # this generation of seen event_ids
        self._older: set[str] = set()  # the previous generation
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._interval = 0.2
        self._async_commit = True

    def add(self, context: dict[str, Any], events: list[dict[str, Any]], *, interval_ms: int,
            async_commit: bool) -> tuple[int, int] | None:
        """Queue one request's events (``store.store_batch`` arguments); returns (accepted,
        duplicates) or None when the buffer is full (the caller stores them itself)."""
        with self._lock:
            if self._count >= MAX_ROWS:
                return None
            self._interval, self._async_commit = interval_ms / 1000, async_commit
            self._ensure_thread()
            recent, older = self._recent, self._older
            accepted = []
            for event in events:
                key = event["event_id"]
                if key not in recent and key not in older:
                    recent.add(key)
                    accepted.append(event)
            if len(recent) > RECENT_IDS:
                self._older, self._recent = recent, set()
        if accepted:
            # Encoding needs no lock: only the queue append does.
            if connection.vendor == "postgresql":
                payload: str | list[dict[str, Any]] = encode_batch(context, accepted)
            else:
                payload = rows_of(context, accepted)
            with self._lock:
                self._queue.append((len(accepted), payload))
                self._count += len(accepted)
        return len(accepted), len(events) - len(accepted)

    def _ensure_thread(self) -> None:
        if self._thread is not None and self._thread.is_alive() and self._pid == os.getpid():
            return
        self._pid = os.getpid()
        # Never inherit a parent's queue across fork.
        self._queue, self._count, self._recent, self._older = [], 0, set(), set()
        self._thread = threading.Thread(target=self._run, name="socialshop-collect-buffer", daemon=True)
        self._thread.start()
        atexit.register(self.drain)

    def _take(self) -> list[tuple[int, str | list[dict[str, Any]]]]:
        with self._lock:
            queue, self._queue, self._count = self._queue, [], 0
        return queue

    def _write(self, queue: list[tuple[int, str | list[dict[str, Any]]]]) -> None:
        chunk: list[str | list[dict[str, Any]]] = []
        size = 0
        for count, payload in queue:
            chunk.append(payload)
            size += count
            if size >= FLUSH_ROWS:
                self._store(chunk, size)
                chunk, size = [], 0
        if chunk:
            self._store(chunk, size)

    def _store(self, chunk: list[str | list[dict[str, Any]]], size: int) -> None:
        for attempt in range(3):
            try:
                if all(isinstance(payload, str) for payload in chunk):
                    store_encoded(chunk, async_commit=self._async_commit, expect_new=True)  # type: ignore[arg-type]
                else:
                    rows = [row for payload in chunk if not isinstance(payload, str) for row in payload]
                    store_events(rows, async_commit=self._async_commit)
                return
            except Exception:  # noqa: BLE001 - a database hiccup must not kill the flusher
                connection.close()
                if attempt == 2:
                    logger.exception("dropped %d buffered events after 3 failed writes", size)
                time.sleep(0.5 * (attempt + 1))

    def _run(self) -> None:
        while True:
            time.sleep(self._interval)
            self.drain()

    def drain(self) -> int:
        """Write everything queued now (the flusher, at exit, tests); waits for a write in flight.
        Returns the number of rows written (or dropped after failed retries)."""
        with self._writing:
            queue = self._take()
            if queue:
                self._write(queue)
        return sum(count for count, _ in queue)


event_buffer = EventBuffer()
