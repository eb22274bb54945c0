"""An open-loop load generator for bench/collect.py: a fixed request rate, every latency recorded.

wrk (and any closed-loop client) sends the next request only when the previous one answered, so a
slow server gets fewer requests and its queueing delay disappears from the figures; at saturation it
measures capacity, not what a shopper waits. Here request ``i`` is due at ``start + i / rate``
whatever happened before; a pool of threads picks the due slots in order, and each latency runs from
the slot's due time (not from when a thread got to it) to the end of the response, so time spent
queued behind a slow answer counts. A thread that finds its slot already past sends at once.

Stdlib only (threads and ``http.client``): gunicorn's sync workers close the connection after each
answer, so each request opens its own; at a few hundred requests a second that costs the client a
fraction of a core, which the bench prints beside its figures (load average).
"""
from __future__ import annotations

import http.client
import json
import threading
import time
from dataclasses import dataclass, field

HEADERS = {
    "Content-Type": "text/plain;charset=UTF-8",
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Cookie": "ss_consent=ag.dg.o0; ss_vid=benchvisitor0000000001; ss_sid=benchsession000000000001",
}


def batch_body(run: str, index: int, size: int = 10) -> bytes:
    """A collect batch of ``size`` ViewContent events with ids unique to ``run`` and ``index``."""
    now = int(time.time())
    events = [{"event_id": f"{run}-{index}-{i}", "name": "ViewContent", "time": now,
               "url": f"http://127.0.0.1/p/x/?utm_source=instagram&fbclid=abc{i}",
               "content_ids": [f"SKU-{i}"], "value": 19.5, "currency": "USD"} for i in range(size)]
    return json.dumps({"events": events}).encode()


@dataclass
class Sample:
    """One request: when it was due (monotonic seconds), how long it took from then, and its outcome."""

    due: float
    latency: float
    ok: bool


@dataclass
class OpenLoop:
    """Sends POSTs to ``http://127.0.0.1:port/path`` at ``rate`` per second until ``stop()``.

    ``samples`` holds every request sent (appended by the worker threads); ``start()`` returns at once.
    """

    port: int
    path: str
    rate: float
    run: str
    threads: int = 64
    timeout: float = 10.0
    samples: list[Sample] = field(default_factory=list)
    _next: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _workers: list[threading.Thread] = field(default_factory=list)
    started: float = 0.0

    def start(self) -> None:
        self.started = time.monotonic() + 0.05
        self._workers = [threading.Thread(target=self._work, daemon=True) for _ in range(self.threads)]
        for worker in self._workers:
            worker.start()

    def stop(self) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(timeout=self.timeout + 1)

    def _slot(self) -> int:
        with self._lock:
            index, self._next = self._next, self._next + 1
            return index

    def _work(self) -> None:
        while not self._stop.is_set():
            index = self._slot()
            due = self.started + index / self.rate
            wait = due - time.monotonic()
            if wait > 0 and self._stop.wait(wait):
                return
            body = batch_body(self.run, index)
            ok = False
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
                conn.request("POST", self.path, body=body, headers=HEADERS)
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
                conn.close()
            except OSError:
                ok = False
            self.samples.append(Sample(due=due, latency=time.monotonic() - due, ok=ok))

    def between(self, start: float, end: float) -> list[Sample]:
        """The requests due in [start, end) (monotonic seconds)."""
        return [s for s in list(self.samples) if start <= s.due < end]


def summary(samples: list[Sample], seconds: float) -> dict[str, float]:
    """Count, achieved rate, p50/p99/max latency in ms (nearest rank) and failures of ``samples``."""
    if not samples:
        return {"requests": 0, "rps": 0.0, "p50_ms": 0.0, "p99_ms": 0.0, "max_ms": 0.0, "errors": 0}
    latencies = sorted(s.latency for s in samples)

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, max(0, int(round(p / 100 * len(latencies))) - 1))] * 1000

    return {"requests": len(samples), "rps": len(samples) / seconds if seconds > 0 else 0.0,
            "p50_ms": pct(50), "p99_ms": pct(99), "max_ms": latencies[-1] * 1000,
            "errors": sum(1 for s in samples if not s.ok)}
