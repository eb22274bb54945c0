"""The demo shows the whole loop offline: a local platform stand-in answers the APIs and the browser
scripts, the admin shows what it received, simulated traffic engages with posts, and a second shell
follows the running demo's port and stand-in."""
from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from shop_demo.fakepixels import install
from shop_demo.fakeplatforms import FakePlatforms
from shop_demo.store.seed_posts import seed_posts_step
from socialshop.platforms.models import PlatformStatus
from socialshop.platforms.status import send_test_event
from socialshop.posts.engagement import attribution_for, counts_by_post, posts_for_simulation
from socialshop.tracking.models import Event
from socialshop.tracking.simulate import simulate_traffic
from tests.conftest import ROOT


@pytest.mark.django_db
def test_simulated_traffic_engages_with_the_published_posts(small_store: dict, settings: object) -> None:
    seed_posts_step(None)
    posts = posts_for_simulation()
    assert posts and all(p.tags for p in posts)
    simulate_traffic(visitors=400, days=7, seed=3, posts=posts)
    names = set(Event.objects.filter(post_id__in=[p.post_id for p in posts]).values_list("name", flat=True))
    assert {"PostView", "PostClick", "PostCloseup", "PostSave", "PostLike"} <= names
    counts = counts_by_post(p.post_id for p in posts)
    assert sum(c["PostView"] for c in counts.values()) > sum(c["PostClick"] for c in counts.values()) > 0
    clicks = Event.objects.filter(name="PostClick").exclude(tag_id="")
    assert clicks.exists() and all(e.content_ids for e in clicks[:20])  # a click names the tagged product
    assert sum(attribution_for(p.post_id).orders for p in posts) > 0  # clicks lead to attributed purchases


@pytest.mark.django_db
def test_test_events_reach_the_stand_in_and_its_admin_page_lists_them(tmp_path: Path, settings: object) -> None:
    fake = FakePlatforms(log_path=tmp_path / "platform-requests.jsonl").start(port=0)
    try:
        scripts = install(fake)
        settings.VAR_DIR = tmp_path
        settings.SOCIALSHOP = {**settings.SOCIALSHOP, "PLATFORMS": fake.settings(test_codes=True)}
        for slug in ("meta", "google", "pinterest", "tiktok"):
            assert send_test_event(slug).status in (200, 204)
        assert PlatformStatus.objects.filter(test_event_at__isnull=False).count() == 4
        with urllib.request.urlopen(scripts["meta"], timeout=5) as answer:  # noqa: S310
            assert b"beacon" in answer.read()  # the recording stand-in of fbevents.js
    finally:
        fake.stop()
    lines = [json.loads(line) for line in (tmp_path / "platform-requests.jsonl").read_text().splitlines()]
    assert {(e["platform"], e["status"]) for e in lines} == {("meta", 200), ("google", 200), ("pinterest", 200), ("tiktok", 200)}
    assert not any("access_token" in e["path"] or "api_secret" in e["path"] for e in lines)  # no secrets logged

    client = Client()
    client.force_login(get_user_model().objects.create_superuser("boss", "b@example.com", "pw"))
    page = client.get("/admin/platform-stand-in/").content.decode()
    assert "4 server API calls" in page and "/v5/ad_accounts/549755885175/events" in page
    assert Client().get("/admin/platform-stand-in/").status_code == 302  # staff only


def test_a_second_shell_follows_the_running_demos_port_and_stand_in(tmp_path: Path) -> None:
    (tmp_path / "demo-run.json").write_text(json.dumps({"site_url": "http://127.0.0.1:8077", "stand_in": "http://127.0.0.1:39999"}))
    code = ("import json; from django.conf import settings as s; p = s.SOCIALSHOP['PLATFORMS']; "
            "print(json.dumps([s.SOCIALSHOP['SITE_URL'], p['meta']['api_base'], p['tiktok']['script_url']]))")
    env = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "shop_demo.settings", "SHOP_DEMO_VAR": str(tmp_path),
           "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", "import django; django.setup(); " + code], env=env, cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == ["http://127.0.0.1:8077", "http://127.0.0.1:39999",
                               "http://127.0.0.1:39999/i18n/pixel/events.js"]
    (tmp_path / "demo-run.json").unlink()  # no demo running: the defaults, the real hosts
    out = subprocess.run([sys.executable, "-c", "import django; django.setup(); " + code.replace("p['meta']['api_base']", "p['meta'].get('api_base', '')").replace("p['tiktok']['script_url']", "p['tiktok'].get('script_url', '')")],
                         env=env, cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == ["http://127.0.0.1:8000", "", ""]


@pytest.mark.django_db
def test_the_demo_stand_in_takes_every_platforms_audience_upload(tmp_path: Path, settings: object) -> None:
    from django.core.management import call_command

    from shop_demo.settings import stand_in_audiences
    from socialshop.audiences.models import Destination
    from tests.audiences.uploads import email_hash, list_audience

    fake = FakePlatforms(log_path=tmp_path / "platform-requests.jsonl").start(port=0).start_audiences()
    try:
        # What `manage.py demo` gives the platforms: the stand-in for events and audiences alike.
        settings.SOCIALSHOP = {**settings.SOCIALSHOP, "PLATFORMS": {
            slug: {**entry, **stand_in_audiences(slug, fake.url)} for slug, entry in fake.settings().items()}}
        audience = list_audience(1_000)  # TikTok's floor, so all four create their lists
        out = StringIO()
        call_command("socialshop_sync_audiences", stdout=out)
        remote = dict(Destination.objects.filter(audience=audience).values_list("platform", "remote_id"))
        assert set(remote) == {"meta", "pinterest", "google", "tiktok"} and all(remote.values()), out.getvalue()
        everyone = {email_hash(n) for n in range(1_000)}
        assert fake.audiences["meta"].members(remote["meta"]) == everyone
        assert fake.audiences["google"].members(remote["google"]) == everyone
        assert fake.audiences["tiktok"].members(remote["tiktok"]) == everyone
        assert list(fake.audiences["pinterest"].lists.values()) == [everyone]
    finally:
        fake.stop()
    # The stand-in's request log (admin's stand-in page) lists the uploads beside the events.
    logged = [json.loads(line) for line in (tmp_path / "platform-requests.jsonl").read_text().splitlines()]
    assert {("audience", slug) for slug in ("meta", "pinterest", "google", "tiktok")} <= {(e["kind"], e["platform"]) for e in logged}
    assert max(e["events"] for e in logged if e["platform"] == "meta") == 1_000  # the members of Meta's upload
    settings.VAR_DIR = tmp_path
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("boss", "b@example.com", "pw"))
    page = client.get("/admin/platform-stand-in/").content.decode()
    assert "audience upload calls" in page and "/v1/audienceMembers:ingest" in page


@pytest.mark.django_db
def test_a_restarted_demo_makes_its_lists_again_on_the_new_stand_in(settings: object) -> None:
    from django.core.management import call_command

    from shop_demo.settings import stand_in_audiences
    from shop_demo.store.standin import forget_stand_in_lists
    from socialshop.audiences.models import Destination, DestinationMember
    from tests.audiences.uploads import email_hash, list_audience

    audience = list_audience(150)
    for run in (1, 2):  # each run of `manage.py demo` starts a stand-in that knows no list
        fake = FakePlatforms().start(port=0).start_audiences()
        try:
            settings.SOCIALSHOP = {**settings.SOCIALSHOP, "PLATFORMS": {
                slug: {**entry, **stand_in_audiences(slug, fake.url)} for slug, entry in fake.settings("meta").items()}}
            assert forget_stand_in_lists() == (0 if run == 1 else 1)
            call_command("socialshop_sync_audiences", stdout=StringIO())
            destination = Destination.objects.get(audience=audience, platform="meta")
            assert destination.state == "150 sent, 0 failed, 0 skipped", (run, destination.state)
            assert fake.audiences["meta"].members(destination.remote_id) == {email_hash(n) for n in range(150)}
            assert DestinationMember.objects.filter(destination=destination).count() == 150
        finally:
            fake.stop()


def test_a_second_shell_gets_the_audience_credentials_only_while_the_demo_runs(tmp_path: Path) -> None:
    code = ("import json; from django.conf import settings as s; p = s.SOCIALSHOP['PLATFORMS']; "
            "print(json.dumps([p['meta'].get('ad_account_id'), p['google'].get('oauth_token_url'), "
            "p['tiktok'].get('advertiser_id')]))")
    env = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "shop_demo.settings", "SHOP_DEMO_VAR": str(tmp_path),
           "PYTHONPATH": str(ROOT)}

    def platforms() -> list[str | None]:
        return json.loads(subprocess.run([sys.executable, "-c", "import django; django.setup(); " + code], env=env, cwd=ROOT,
                                         capture_output=True, text=True, check=True).stdout)

    (tmp_path / "demo-run.json").write_text(json.dumps({"site_url": "http://127.0.0.1:8077", "stand_in": "http://127.0.0.1:39999"}))
    assert platforms() == ["act_1122334455", "http://127.0.0.1:39999/datamanager/token", "7000000000000000001"]
    env["SOCIALSHOP_API_BASE"] = "http://127.0.0.1:40000"  # APIs pointed elsewhere: no stand-in credentials there
    assert platforms() == [None, None, None]
    del env["SOCIALSHOP_API_BASE"]
    (tmp_path / "demo-run.json").unlink()
    assert platforms() == [None, None, None]
