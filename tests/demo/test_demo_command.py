"""``python manage.py demo`` end to end: a real subprocess on the embedded SQLite database and
filesystem broker (no services needed), serving pages and images, running a task through its
Celery worker, and leaving no process behind after Ctrl-C."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from tests.conftest import ROOT, wait_for


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _descendants(pid: int) -> set[int]:
    found: set[int] = set()
    todo = [pid]
    while todo:
        out = subprocess.run(["pgrep", "-P", str(todo.pop())], capture_output=True, text=True).stdout.split()
        for child in map(int, out):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state != "Z"


def _get(url: str) -> tuple[int, str, bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - our own local server
        return response.status, response.headers.get("Content-Type", ""), response.read()


def test_demo_command_serves_the_store_runs_a_task_and_stops_every_process_on_ctrl_c(tmp_path: Path) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "SOCIALSHOP_TEST_DB_NAME")}
    env.update({
        "DJANGO_SETTINGS_MODULE": "shop_demo.settings", "SHOP_DEMO_VAR": str(tmp_path / "var"),
        "SHOP_DEMO_PRODUCTS": "12", "SHOP_DEMO_CUSTOMERS": "3", "SHOP_DEMO_VISITORS": "40", "SHOP_DEMO_POSTS": "3",
        "PYTHONUNBUFFERED": "1",
    })
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "demo", "--port", str(port)], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(iter(proc.stdout.readline, "")), daemon=True)
    reader.start()
    text = lambda: "".join(output)  # noqa: E731
    try:
        wait_for(lambda: "Press Ctrl-C to stop everything" in text() or proc.poll() is not None,
                 timeout=60, what="the demo banner")
        assert proc.poll() is None, text()[-4000:]
        assert "Created superuser admin / admin" in text() and "12 products" in text()
        assert f"Store:       http://127.0.0.1:{port}/" in text()
        # The feeds built while seeding link to the port the demo serves, not the default one.
        feeds = list((tmp_path / "var" / "media" / "socialshop" / "feeds" / "google-shopping").glob("*.xml"))
        assert feeds and f"<g:link>http://127.0.0.1:{port}/p/" in feeds[0].read_text()

        # Offline: the platform stand-in answered one test event per platform.
        wait_for(lambda: "Test events:" in text(), timeout=60, what="the test events line")
        assert "Test events: meta HTTP 200, google HTTP 200, pinterest HTTP 200, tiktok HTTP 200" in text()
        assert "local stand-in http://127.0.0.1:" in text()
        # A second shell building feeds keeps the demo's port in the links (demo-run.json).
        second = {k: v for k, v in env.items() if k != "SITE_URL"}
        subprocess.run([sys.executable, "manage.py", "socialshop_build_feeds"], cwd=ROOT, env=second, check=True,
                       capture_output=True, timeout=120)
        newest = max(feeds[0].parent.glob("*.xml"), key=lambda p: p.stat().st_mtime)
        assert f"<g:link>http://127.0.0.1:{port}/p/" in newest.read_text()

        status, _, body = _get(f"http://127.0.0.1:{port}/")
        assert status == 200
        image = re.search(r'src="(/media/products/[^"]+\.jpg)"', body.decode()).group(1)
        status, content_type, data = _get(f"http://127.0.0.1:{port}{image}")
        assert status == 200 and content_type == "image/jpeg" and data[:2] == b"\xff\xd8"

        wait_for(lambda: re.search(r"\[worker\] .*Task socialshop\.record_heartbeat\[[^\]]+\] succeeded", text()),
                 timeout=240, what="the heartbeat task to succeed in the worker")
        assert "succeeded" in (tmp_path / "var" / "worker.log").read_text()
        assert "beat: Starting..." in text()

        family = _descendants(proc.pid)
        assert len(family) >= 3  # web, worker (and its pool), beat
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=40) == 0, text()[-4000:]
        reader.join(timeout=5)
        assert "Demo stopped cleanly: 3 processes ended" in text()
        assert not (tmp_path / "var" / "demo-run.json").exists()  # nothing left pointing at a stopped stand-in
        wait_for(lambda: not [pid for pid in family if _alive(pid)], timeout=10, what="every child process to exit")
    except BaseException:
        print("--- what the demo printed (last 8000 characters):\n" + text()[-8000:])  # shown by pytest on failure
        raise
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        for pid in _descendants(proc.pid):
            os.kill(pid, signal.SIGKILL)
