"""Timing shared by the benches that compare socialshop with a bare baseline in one process (creatives.py,
renditions.py): the two sides alternate over a few rounds and each keeps its best, so load from other
processes on a shared machine does not favour whichever side ran in a quiet moment."""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def best_of_alternating(bare: Callable[..., int], ours: Callable[..., int], *args: Any,
                        rounds: int) -> tuple[tuple[int, float], tuple[int, float]]:
    """((items, seconds) of the bare side's fastest round, the same for ours); each side is called with ``args``
    and returns how many items it made."""
    def timed(fn: Callable[..., int]) -> tuple[int, float]:
        start = time.perf_counter()
        count = fn(*args)
        return count, time.perf_counter() - start

    bare_runs, our_runs = [], []
    for _ in range(max(1, rounds)):
        bare_runs.append(timed(bare))
        our_runs.append(timed(ours))
    return min(bare_runs, key=lambda run: run[1]), min(our_runs, key=lambda run: run[1])
