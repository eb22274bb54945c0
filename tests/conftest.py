"""Shared fixtures and the service markers.

``postgres``, ``worker`` and ``browser`` tests skip with a clear message on a laptop that lacks the
service, and fail under ``CI=true``. In CI's SQLite pass, ``postgres`` tests are deselected (they
run in the PostgreSQL pass that .ci/run makes next), which is not a skip.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.db import OperationalError, connection

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
REDIS_URL = os.environ.get("SOCIALSHOP_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
ROOT = Path(__file__).resolve().parent.parent


def _port_open(url: str) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 6379), timeout=1):
            return True
    except OSError:
        return False


def _db_is_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"].endswith(("postgresql", "postgresql_psycopg2"))


def missing_service(marker: str) -> str | None:
    """Why the service behind ``marker`` is unavailable here, or None when it is available."""
    if marker == "postgres" and not _db_is_postgres():
        return "needs PostgreSQL: run with DATABASE_URL=postgres://USER@127.0.0.1:5432/DBNAME"
    if marker == "worker" and not _port_open(REDIS_URL):
        return f"needs Redis for a real Celery worker at {REDIS_URL} (set SOCIALSHOP_TEST_REDIS_URL)"
    if marker == "browser":
        if not shutil.which("chromium") and not os.path.exists("/usr/bin/chromium"):
            return "needs Debian's chromium (apt-get install chromium)"
        try:
            import playwright  # noqa: F401
        except ImportError:
            return "needs the playwright Python package (pip install playwright)"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if IN_CI and not _db_is_postgres():
        keep, dropped = [], []
        for item in items:
            (dropped if item.get_closest_marker("postgres") else keep).append(item)
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            items[:] = keep
            print(f"\nsocialshop: {len(dropped)} postgres tests deselected in the SQLite pass; they run in the PostgreSQL pass")


@pytest.fixture(autouse=True)
def _require_services(request: pytest.FixtureRequest) -> None:
    for marker in ("postgres", "worker", "browser"):
        if request.node.get_closest_marker(marker):
            why = missing_service(marker)
            if why:
                if IN_CI:
                    pytest.fail(f"CI=true and this test {why}", pytrace=False)
                pytest.skip(why)


@pytest.fixture
def odd_catalog(settings: object) -> None:
    """Point socialshop at the odd-named test store (tests/store) instead of the demo store."""
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "CATALOG_OPTIONS": settings.ODD_STORE_CATALOG}


def subprocess_env(**extra: str) -> dict[str, str]:
    """Environment for a subprocess (worker, server) that must use this test run's database."""
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    env["SOCIALSHOP_TEST_DB_NAME"] = str(connection.settings_dict["NAME"])
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


class WorkerProcess:
    """A real ``celery worker`` subprocess on Redis, with its log kept for assertions."""

    def __init__(self, proc: subprocess.Popen, log_path: Path) -> None:
        self.proc = proc
        self.log_path = log_path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def child_pids(self) -> list[int]:
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True)
        return [int(p) for p in out.stdout.split()]


@pytest.fixture
def celery_worker_process(transactional_db: None, tmp_path: Path, settings: object) -> Iterator[WorkerProcess]:
    """Start a real Celery worker (prefork, 1 child) on Redis; socialshop enqueues to it."""
    import redis

    from tests.celery_app import app

    redis.Redis.from_url(REDIS_URL).flushdb()
    app.conf.broker_url = REDIS_URL
    app.conf.broker_transport_options = {"visibility_timeout": 3600}
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "RUN_TASKS": "celery"}
    log_path = tmp_path / "worker.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "tests.celery_app", "worker", "-l", "INFO", "-P", "prefork",
         "-c", "1", "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"test{os.getpid()}@%h"],
        cwd=ROOT, env=subprocess_env(CELERY_BROKER_URL=REDIS_URL), stdout=log_path.open("w"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    worker = WorkerProcess(proc, log_path)
    deadline = time.monotonic() + 60
    while "ready." not in worker.log():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"celery worker did not start:\n{worker.log()[-3000:]}")
        time.sleep(0.2)
    try:
        yield worker
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        app.conf.broker_url = settings.CELERY_BROKER_URL


def wait_for(predicate, *, timeout: float = 30.0, interval: float = 0.2, what: str = "condition"):  # type: ignore[no-untyped-def]
    """Poll ``predicate`` until it returns a truthy value; fail the test after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture
def browser() -> Iterator[object]:
    """Headless Debian Chromium driven by Playwright (never a downloaded browser build)."""
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=shutil.which("chromium") or "/usr/bin/chromium", args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session", autouse=True)
def _end_stray_database_sessions(django_db_setup: object, django_db_blocker: object) -> Iterator[None]:
    """On PostgreSQL, end sessions other threads left open before the test database is dropped.

    The live server answers each request in a daemon thread with its own connection; a beacon the
    browser sends as a page closes can still be in such a thread at the end of the run, and its
    connection would stop Django from dropping the test database.
    """
    yield
    if connection.vendor != "postgresql":
        return
    try:
        with django_db_blocker.unblock():  # type: ignore[attr-defined]
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                               "WHERE datname = current_database() AND pid <> pg_backend_pid()")
    except OperationalError:
        return  # no database to reach (a run whose tests touched none): no session to end either
