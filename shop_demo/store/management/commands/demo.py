"""``python manage.py demo``: migrate, seed an empty store, create admin/admin, then run the web
server, a Celery worker and Celery beat until Ctrl-C, with a local stand-in for the four platforms'
APIs and browser scripts (shop_demo/fakeplatforms.py) unless ``--real-platforms``.
Process handling is in store/processes.py."""
from __future__ import annotations

import json
import os
import signal
import socket
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.test.utils import override_settings

from shop_demo.fakepixels import PATHS as STAND_IN_SCRIPT_PATHS, install as install_pixel_scripts
from shop_demo.fakeplatforms import FakePlatforms
from shop_demo.settings import stand_in_audience_keys, stand_in_audiences
from shop_demo.store.models import Order, Product, ProductImage, Variant
from shop_demo.store.processes import Supervisor, wait_for_log
from shop_demo.store.seed import CUSTOMER_PASSWORD, run_seed_steps, store_is_empty
from shop_demo.store.standin import forget_stand_in_lists

HOST = "127.0.0.1"
STARTUP_TIMEOUT = 90.0


class Command(BaseCommand):
    help = (
        "Run the demo store: migrate, seed if empty, create admin/admin, then serve on 127.0.0.1 with a "
        "Celery worker and beat. Env: SHOP_DEMO_VAR (data dir), SHOP_DEMO_PRODUCTS / SHOP_DEMO_CUSTOMERS "
        "(seed size), DATABASE_URL, CELERY_BROKER_URL."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000, help="web server port on 127.0.0.1 (default 8000)")
        parser.add_argument("--seed-only", action="store_true", help="migrate, seed and create admin, then exit")
        parser.add_argument("--no-worker", action="store_true", help="run only the web server (tasks run in it)")
        parser.add_argument("--real-platforms", action="store_true",
                            help="send to the platforms' real hosts instead of the local stand-in (needs network access)")

    def say(self, message: str) -> None:
        self.stdout.write(message)
        self.stdout.flush()

    def handle(self, *args: Any, port: int, seed_only: bool, no_worker: bool, real_platforms: bool = False,
               **options: Any) -> None:
        started = time.monotonic()
        if not 1 <= port <= 65535:
            raise CommandError(f"--port {port} is not a TCP port (1-65535)")
        if not seed_only:
            self._check_port_free(port)  # fail before the slow steps, not after them
        self.stand_in: FakePlatforms | None = None
        if not seed_only and not real_platforms and not os.environ.get("SOCIALSHOP_API_BASE"):
            self.stand_in = FakePlatforms(log_path=Path(settings.VAR_DIR) / "platform-requests.jsonl")
            self.stand_in.start(port=0).start_audiences()  # audience uploads go there too
            install_pixel_scripts(self.stand_in)
        # Feeds built while seeding link to the port this demo serves (the children get it too).
        site_url = os.environ.get("SITE_URL") or f"http://{HOST}:{port}"
        try:
            with override_settings(SOCIALSHOP={**settings.SOCIALSHOP, "SITE_URL": site_url,
                                               "PLATFORMS": self._platforms(real=real_platforms)}):
                self._run(port=port, seed_only=seed_only, no_worker=no_worker, started=started, site_url=site_url)
        finally:
            if self.stand_in is not None:
                self.stand_in.stop()

    def _platforms(self, *, real: bool) -> dict[str, dict[str, Any]]:
        """The demo's platform settings pointed at the stand-in, or at the real hosts with ``real``."""
        out = {}
        for slug, values in settings.SOCIALSHOP["PLATFORMS"].items():
            stand_in_keys = ("api_base", "script_url", *stand_in_audience_keys(slug))  # set again below when they apply
            values = {k: v for k, v in values.items() if k not in stand_in_keys}
            if os.environ.get("SOCIALSHOP_API_BASE"):
                values["api_base"] = os.environ["SOCIALSHOP_API_BASE"]
            elif self.stand_in is not None:
                values["api_base"] = self.stand_in.url
            if self.stand_in is not None:
                values["script_url"] = self.stand_in.url + STAND_IN_SCRIPT_PATHS[slug]
                values.update(stand_in_audiences(slug, self.stand_in.url))  # the demo's audiences upload to it
            out[slug] = values
        return out

    def _run(self, *, port: int, seed_only: bool, no_worker: bool, started: float, site_url: str) -> None:
        db = connection.settings_dict
        self.say(f"[1/4] Migrating the database ({db['ENGINE'].rsplit('.', 1)[-1]}: {db['NAME']})")
        call_command("migrate", interactive=False, verbosity=0)

        if store_is_empty():
            self.say("[2/4] Seeding the demo store (first run)")
            seed_started = time.monotonic()
            try:
                steps = run_seed_steps(progress=self.say)
            except KeyboardInterrupt:
                raise CommandError("interrupted while seeding; nothing was kept, run the command again") from None
            self.say(f"      {steps} seed step(s) done in {time.monotonic() - seed_started:.1f}s")
        else:
            self.say(f"[2/4] Store already has {Product.objects.count()} products; not seeding again")

        user_model = get_user_model()
        if user_model.objects.filter(username="admin").exists():
            self.say("[3/4] Superuser admin already exists")
        else:
            user_model.objects.create_superuser("admin", "admin@example.com", "admin")
            self.say("[3/4] Created superuser admin / admin")

        counts = (
            f"{Product.objects.count()} products, {Variant.objects.count()} variants, "
            f"{ProductImage.objects.count()} images, {user_model.objects.filter(is_staff=False).count()} customers, "
            f"{Order.objects.count()} orders"
        )
        if seed_only:
            self.say(f"Demo store ready: {counts} ({time.monotonic() - started:.1f}s); run `python manage.py demo` to serve it.")
            return
        self._serve(port=port, no_worker=no_worker, counts=counts, started=started, site_url=site_url)

    # -- serving ------------------------------------------------------------------------------
    @staticmethod
    def _check_port_free(port: int) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((HOST, port))
            except OSError:
                raise CommandError(f"port {port} on {HOST} is already in use; pass --port to pick another") from None

    def _serve(self, *, port: int, no_worker: bool, counts: str, started: float, site_url: str) -> None:
        self._check_port_free(port)  # again: seeding took a while
        var_dir = Path(settings.VAR_DIR)
        base_dir = Path(settings.BASE_DIR)
        stand_in_url = self.stand_in.url if self.stand_in is not None else ""
        # A second shell (socialshop_build_feeds, ...) reads this through shop_demo/settings.py.
        run_file = Path(settings.DEMO_RUN_FILE)
        run_file.write_text(json.dumps({"site_url": site_url, "stand_in": stand_in_url}))
        if stand_in_url and (forgotten := forget_stand_in_lists()):
            self.say(f"      {forgotten} audience destination(s) of the last run's stand-in forgotten: this run's first sync makes them again")
        env = dict(os.environ)
        if stand_in_url:
            env.setdefault("SOCIALSHOP_API_BASE", stand_in_url)
            env["SHOP_DEMO_PIXEL_BASE"] = stand_in_url
        env["DJANGO_SETTINGS_MODULE"] = os.environ.get("DJANGO_SETTINGS_MODULE") or "shop_demo.settings"
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(base_dir), env.get("PYTHONPATH", "")) if p)
        env["PYTHONUNBUFFERED"] = "1"
        env.setdefault("SITE_URL", site_url)
        web_env = {**env, "SOCIALSHOP_RUN_TASKS": env.get("SOCIALSHOP_RUN_TASKS", "inline")} if no_worker else env

        stop = threading.Event()
        previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
        supervisor = Supervisor(out=self.stdout, log_dir=var_dir)
        failure: str | None = None
        try:
            self.say(f"[4/4] Starting the web server{'' if no_worker else ', Celery worker and beat'}")
            web = supervisor.start("web", [
                sys.executable, "-m", "django", "runserver", f"{HOST}:{port}", "--noreload", "--skip-checks", "--insecure",
            ], env=web_env, cwd=base_dir)
            if not no_worker:
                worker = supervisor.start("worker", [
                    sys.executable, "-m", "celery", "-A", "shop_demo", "worker", "-l", "INFO", "-c", "2",
                    "-n", f"demo-{port}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat",
                ], env=env, cwd=base_dir)
                supervisor.start("beat", [
                    sys.executable, "-m", "celery", "-A", "shop_demo", "beat", "-l", "INFO",
                    "-s", str(var_dir / "celerybeat-schedule"),
                ], env=env, cwd=base_dir)
            url = f"http://{HOST}:{port}/"
            if not self._wait_http(url, stop=stop, supervisor=supervisor):
                if not stop.is_set():
                    failure = self._startup_failure(supervisor, "the web server did not answer")
            elif not no_worker:
                if not self._wait_worker(worker, stop):
                    if not stop.is_set():
                        failure = self._startup_failure(supervisor, "the Celery worker did not become ready")
                elif not stop.is_set():
                    self._kick_heartbeat()
            if failure is None and not stop.is_set():
                self._send_test_events()
                self._banner(url, no_worker=no_worker, counts=counts, started=started)
                while not stop.wait(0.5):
                    dead = supervisor.dead()
                    if dead:
                        failure = self._startup_failure(supervisor, f"{dead[0].name} exited with code {dead[0].proc.returncode}")
                        break
        finally:
            self.say("Stopping the demo (web server, worker, beat)...")
            forced = supervisor.stop()
            run_file.unlink(missing_ok=True)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        for note in forced:
            self.say(f"  {note}")
        if failure:
            raise CommandError(failure)
        count = len(supervisor.children)
        self.say(f"Demo stopped cleanly: {count} process{'es' if count != 1 else ''} ended, ran {time.monotonic() - started:.0f}s.")

    def _wait_http(self, url: str, *, stop: threading.Event, supervisor: Supervisor) -> bool:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline and not stop.is_set():
            if supervisor.dead():
                return False
            try:
                with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - our own server
                    if response.status == 200:
                        return True
            except (urllib.error.URLError, OSError):
                pass
            stop.wait(0.3)
        return False

    def _wait_worker(self, worker: Any, stop: threading.Event) -> bool:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline and not stop.is_set():
            if wait_for_log(worker, "ready.", timeout=0.5):
                return True
            if worker.proc.poll() is not None:
                return False
        return False

    def _kick_heartbeat(self) -> None:
        """Queue one heartbeat so the newcomer sees the worker run a task right away."""
        from shop_demo.celery import app

        app.send_task("socialshop.record_heartbeat")
        app.send_task("socialshop.send_cart_reminders")  # the seeded campaign's due emails now, not in 5 minutes
        if self.stand_in is not None:
            app.send_task("socialshop.sync_audiences")  # the seeded audiences reach the stand-in's lists now

    def _send_test_events(self) -> None:
        """One test event per platform, so the platform statuses show an answer from the start."""
        from socialshop.platforms import configured_slugs
        from socialshop.platforms.status import send_test_event

        answers = []
        for slug in configured_slugs():
            for attempt in (1, 2):  # once more after a second: the stand-in may still be warming up on a busy machine
                try:
                    answers.append(f"{slug} HTTP {send_test_event(slug).status}")
                    break
                except Exception as exc:  # noqa: BLE001 - shown, and recorded on the platform status
                    if attempt == 2:
                        answers.append(f"{slug} failed ({str(exc)[:80]})")
                    else:
                        time.sleep(1)
        self.say("Test events: " + ", ".join(answers))

    def _startup_failure(self, supervisor: Supervisor, what: str) -> str:
        tails = []
        for child in supervisor.children:
            if child.lines:
                tails.append(f"--- last output of {child.name} ({child.log_path}):\n" + "\n".join(child.lines[-12:]))
        return f"{what}.\n" + "\n".join(tails)

    def _banner(self, url: str, *, no_worker: bool, counts: str, started: float) -> None:
        broker = str(settings.CELERY_BROKER_URL).split("@")[-1]
        var_dir = Path(settings.VAR_DIR)
        logs = (
            f"the web server prints below as [web]; a copy in {var_dir}/web.log" if no_worker else
            f"web, worker and beat print below as [web] [worker] [beat]; copies in {var_dir}/*.log"
        )
        lines = [
            "",
            "=" * 72,
            f"  Harbor & Pine demo store is running ({time.monotonic() - started:.0f}s to start)",
            f"  Store:       {url}",
            f"  Admin:       {url}admin/   log in as admin / admin",
            f"  socialshop:  {url}socialshop/api/",
            f"  Customers:   any seeded customer's email, password {CUSTOMER_PASSWORD}",
            f"  Data:        {counts}",
            f"  Broker:      {broker}" + ("  (no worker: tasks run inside the web server)" if no_worker else ""),
            "  Platforms:   " + (
                f"local stand-in {self.stand_in.url} (offline, --real-platforms for the real hosts)\n"
                f"               requests it received: {url}admin/platform-stand-in/ ({var_dir}/platform-requests.jsonl)"
                if self.stand_in is not None else
                f"{os.environ.get('SOCIALSHOP_API_BASE') or 'the real hosts'} (test mode)"),
            f"  Logs:        {logs}",
            f"  Emails:      cart reminders are written as files to {settings.EMAIL_FILE_PATH}/"
            + (" (run manage.py socialshop_send_cart_reminders)" if no_worker else " (sent at start, then every 5 min)"),
        ]
        if not no_worker:
            lines.append("  A heartbeat task was queued: look for '[worker] ... socialshop.record_heartbeat[...] succeeded'")
        lines += ["  Press Ctrl-C to stop everything.", "=" * 72, ""]
        self.say("\n".join(lines))
