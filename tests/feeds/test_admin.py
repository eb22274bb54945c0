"""Feed admin pages: list with status and result, history with reasons, build now, dry run, match report."""
from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from socialshop.feeds.builder import build_feed
from socialshop.feeds.models import BuildStatus
from socialshop.tracking.models import Event
from tests.feeds.conftest import make_feed, make_product

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, django_user_model):  # type: ignore[no-untyped-def]
    user = django_user_model.objects.create_superuser("boss", "boss@example.com", "pw")
    client.force_login(user)
    return client


def test_feed_list_shows_status_counts_and_the_guard_refusal(staff_client, feed_storage_dir):
    from shop_demo.store.models import Product

    make_product()
    feed = make_feed()
    build_feed(feed)
    Product.objects.all().delete()
    build_feed(feed)

    page = staff_client.get(reverse("admin:socialshop_feed_changelist")).content.decode()

    assert "Refused by the publish guard" in page
    assert "refused: the build has no items" in page
    assert "1 item, built" in page


def test_feed_page_shows_url_history_and_tools(staff_client, feed_storage_dir):
    make_product()
    feed = make_feed()
    build_feed(feed)

    page = staff_client.get(reverse("admin:socialshop_feed_change", args=[feed.pk])).content.decode()

    assert feed.token in page and "Items per build" in page
    assert reverse("admin:socialshop_feed_dry_run", args=[feed.pk]) in page


def test_build_page_shows_top_reasons_with_example_ids(staff_client, feed_storage_dir):
    make_product()
    imageless = make_product(images=0)
    build = build_feed(make_feed())

    page = staff_client.get(reverse("admin:socialshop_feedbuild_change", args=[build.pk])).content.decode()

    assert "missing_image" in page and str(imageless.pk) in page


def test_build_now_runs_the_build_and_returns_to_the_feed(staff_client, feed_storage_dir):
    make_product()
    feed = make_feed()

    confirm = staff_client.get(reverse("admin:socialshop_feed_build", args=[feed.pk]))
    response = staff_client.post(reverse("admin:socialshop_feed_build", args=[feed.pk]))

    assert confirm.status_code == 200
    assert response.status_code == 302
    assert feed.builds.get().status == BuildStatus.PUBLISHED


def test_build_now_publishes_an_empty_feed_only_with_its_own_checkbox(staff_client, feed_storage_dir):
    from shop_demo.store.models import Product

    make_product()
    feed = make_feed()
    build_feed(feed)
    Product.objects.all().delete()
    url = reverse("admin:socialshop_feed_build", args=[feed.pk])

    assert 'name="allow_empty"' in staff_client.get(url).content.decode()
    staff_client.post(url, {"force": "1"})
    assert feed.builds.order_by("-pk").first().status == BuildStatus.REFUSED
    staff_client.post(url, {"allow_empty": "1"})
    assert feed.builds.order_by("-pk").first().status == BuildStatus.PUBLISHED


def test_build_now_action_from_the_list(staff_client, feed_storage_dir):
    make_product()
    feed = make_feed()

    staff_client.post(reverse("admin:socialshop_feed_changelist"),
                      {"action": "build_now", "_selected_action": [feed.pk]})

    assert feed.builds.get().status == BuildStatus.PUBLISHED


def test_dry_run_page_lists_excluded_products_and_reasons(staff_client, feed_storage_dir):
    make_product(price=Decimal("30"))
    cheap = make_product(price=Decimal("2"))
    feed = make_feed(min_price=Decimal("10"))

    page = staff_client.get(reverse("admin:socialshop_feed_dry_run", args=[feed.pk])).content.decode()

    assert "below_min_price" in page and f"<code>{cheap.pk}</code>" in page
    assert not feed.builds.exists()


def test_match_report_page_lists_event_ids_missing_from_feeds(staff_client, feed_storage_dir):
    make_product()
    build_feed(make_feed())
    now = timezone.now()
    Event.objects.create(event_id="x", name="ViewContent", occurred_at=now, received_at=now, content_ids=["ghost-42"])

    page = staff_client.get(reverse("admin:socialshop_feed_match_report")).content.decode()

    assert "ghost-42" in page and "match rate: <b>0%</b>" in page
