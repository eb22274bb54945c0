"""Child processes for ``manage.py demo``: start the web server, Celery worker and beat, show their
output with a prefix (and keep it in var/<name>.log), and stop them all, with no orphans left.

The command (management/commands/demo.py) only parses arguments and reports progress.
"""
from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _die_with_parent() -> None:  # pragma: no cover - runs in the forked child
    """In the child before exec: get SIGTERM if the demo command dies without cleaning up."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        except OSError:
            pass


@dataclass
class Child:
    """One supervised process and the thread copying its output."""

    name: str
    proc: subprocess.Popen
    log_path: Path
    pump: threading.Thread | None = None
    lines: list[str] = field(default_factory=list)  # the last lines, for an error report

    @property
    def pid(self) -> int:
        return self.proc.pid


class Supervisor:
    """Starts children in their own process groups and stops them in reverse order."""

    def __init__(self, *, out: TextIO, log_dir: Path, echo: bool = True) -> None:
        self.out = out
        self.log_dir = log_dir
        self.echo = echo
        self.children: list[Child] = []
        self._lock = threading.Lock()

    def start(self, name: str, argv: list[str], *, env: dict[str, str], cwd: Path) -> Child:
        """Start ``argv``; its output is prefixed ``[name]`` on the console and kept in ``name.log``."""
        proc = subprocess.Popen(
            argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C reaches only us; we stop the children in order
            preexec_fn=_die_with_parent, bufsize=1, text=True, errors="replace",
        )
        child = Child(name=name, proc=proc, log_path=self.log_dir / f"{name}.log")
        child.pump = threading.Thread(target=self._pump, args=(child,), name=f"demo-{name}-output", daemon=True)
        child.pump.start()
        self.children.append(child)
        return child

    def _pump(self, child: Child) -> None:
        assert child.proc.stdout is not None
        with child.log_path.open("w", encoding="utf-8") as log:  # a fresh log per run
            for line in child.proc.stdout:
                log.write(line)
                log.flush()
                child.lines = [*child.lines[-30:], line.rstrip()]
                if self.echo:
                    with self._lock:
                        self.out.write(f"[{child.name}] {line}" if line.endswith("\n") else f"[{child.name}] {line}\n")
                        self.out.flush()

    def dead(self) -> list[Child]:
        """Children that exited on their own."""
        return [c for c in self.children if c.proc.poll() is not None]

    def stop(self, *, timeout: float = 20.0) -> list[str]:
        """SIGTERM each child (last started first), wait, then SIGKILL what is left in its group.

        Returns a note per child that had to be killed (empty when all stopped cleanly).
        """
        forced: list[str] = []
        for child in reversed(self.children):
            if child.proc.poll() is None:
                try:
                    child.proc.send_signal(signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + timeout
        for child in reversed(self.children):
            try:
                child.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                forced.append(f"{child.name} (pid {child.pid}) did not stop in {timeout:.0f}s; killed")
        for child in self.children:
            # The group holds the child and anything it forked (e.g. worker pool processes).
            if _group_alive(child.pid):
                try:
                    os.killpg(child.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            if child.proc.poll() is None:
                child.proc.wait(timeout=5)
            if child.pump is not None:
                child.pump.join(timeout=2)
        return forced


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def wait_for_log(child: Child, needle: str, *, timeout: float) -> bool:
    """Wait until ``needle`` shows up in the child's output (False on timeout or exit)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.log_path.exists() and needle in child.log_path.read_text(errors="replace"):
            return True
        if child.proc.poll() is not None:
            return False
        time.sleep(0.1)
    return False
