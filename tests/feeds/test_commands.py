"""socialshop_build_feeds and socialshop_doctor, run as a shop owner would."""
from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from socialshop.feeds.models import BuildStatus, Feed
from socialshop.tracking.models import Event
from tests.feeds.conftest import make_feed, make_product

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_build_feeds_builds_every_enabled_feed_and_prints_urls_with_tokens(feed_storage_dir, client):
    make_product()
    google = make_feed("google", "xml")
    meta = make_feed("meta", "csv")
    make_feed("pinterest", "tsv", enabled=False)

    output = _run("socialshop_build_feeds", "--print-urls")

    assert f"http://testserver/socialshop/feeds/{google.slug}.xml?token={google.token}" in output
    assert f"http://testserver/socialshop/feeds/{meta.slug}.csv?token={meta.token}" in output
    assert "pinterest" not in output
    assert output.strip().splitlines()[-1] == "built 2 feeds: 2 published"
    url = f"/socialshop/feeds/{meta.slug}.csv?token={meta.token}"
    assert client.get(url).status_code == 200


def test_build_feeds_builds_only_the_named_feed(feed_storage_dir):
    make_product()
    make_feed("google", "xml")
    meta = make_feed("meta", "xml")

    _run("socialshop_build_feeds", meta.slug)

    assert [f.slug for f in Feed.objects.exclude(published_build=None)] == [meta.slug]


def test_build_feeds_fails_clearly_for_an_unknown_slug():
    with pytest.raises(CommandError, match="no feed with slug nope"):
        _run("socialshop_build_feeds", "nope")


def test_build_feeds_exits_non_zero_when_the_guard_refuses(feed_storage_dir):
    from shop_demo.store.models import Product

    make_product()
    feed = make_feed()
    _run("socialshop_build_feeds")
    Product.objects.all().delete()

    with pytest.raises(CommandError, match="not published: google-xml refused"):
        _run("socialshop_build_feeds")
    assert feed.builds.first().status == BuildStatus.REFUSED


def test_build_feeds_force_refuses_an_empty_feed_and_allow_empty_publishes_it(feed_storage_dir):
    from shop_demo.store.models import Product

    make_product()
    feed = make_feed()
    _run("socialshop_build_feeds")
    Product.objects.all().delete()

    with pytest.raises(CommandError, match="not published: google-xml refused"):
        _run("socialshop_build_feeds", "--force")
    output = _run("socialshop_build_feeds", "--allow-empty")

    assert "google-xml: published: 0 written" in output
    feed.refresh_from_db()
    assert feed.published_build.items_written == 0


def test_doctor_reports_event_ids_missing_from_feeds_and_items_never_referenced(feed_storage_dir):
    seen = make_product(name="Seen")
    unseen = make_product(name="Unseen")
    make_feed()
    _run("socialshop_build_feeds")
    now = timezone.now()
    Event.objects.create(event_id="a", name="ViewContent", occurred_at=now, received_at=now,
                         content_ids=[str(seen.pk), "gla_999"])
    Event.objects.create(event_id="b", name="AddToCart", occurred_at=now, received_at=now, content_ids=["gla_999"])

    output = _run("socialshop_doctor")

    assert "gla_999  (2 events)" in output
    assert f"never named by any event, e.g.: {unseen.pk}" in output
    assert "match rate 50.0%" in output
    assert output.strip().splitlines()[-1] == "doctor: 1 feeds, 1 problem(s), 1 event ids missing from feeds, 1 feed items never referenced"
