"""Tasks that exist only for the worker tests (a task the test can kill mid-run)."""
from __future__ import annotations

import os
import time
from pathlib import Path

from celery import shared_task

from socialshop.core.jobs import TASK_DEFAULTS


@shared_task(name="tests.slow_then_done", **TASK_DEFAULTS)
def slow_then_done(folder: str) -> str:
    """First run: note its pid and hang (the test kills it). A redelivered run finishes."""
    base = Path(folder)
    attempt = len(list(base.glob("started-*"))) + 1
    (base / f"started-{attempt}").write_text(str(os.getpid()))
    if attempt == 1:
        time.sleep(120)
    (base / "done").write_text(str(attempt))
    return f"done on attempt {attempt}"
