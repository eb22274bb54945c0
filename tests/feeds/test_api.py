"""The feeds API: model permissions, settings validated like the admin, build now, history, dry run."""
from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from socialshop.feeds.models import Feed
from tests.feeds.conftest import make_feed, make_product

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, django_user_model):  # type: ignore[no-untyped-def]
    """Staff with every feed permission, build_feed included."""
    user = django_user_model.objects.create_user("staff", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="socialshop", content_type__model="feed"))
    client.force_login(user)
    return client


def test_feeds_are_hidden_from_anonymous_and_non_staff_users(client, django_user_model):
    make_feed()
    assert client.get("/socialshop/api/feeds/").status_code in (401, 403)
    client.force_login(django_user_model.objects.create_user("shopper"))
    assert client.get("/socialshop/api/feeds/").status_code == 403


def test_staff_create_a_feed_and_a_csv_google_feed_is_refused(staff):
    bad = staff.post("/socialshop/api/feeds/", {"name": "G", "slug": "g", "platform": "google", "file_format": "csv"},
                     content_type="application/json")
    good = staff.post("/socialshop/api/feeds/", {"name": "M", "slug": "m", "platform": "meta", "file_format": "csv",
                                                  "custom_labels": [{"rule": "on_sale", "value": "sale"}]},
                      content_type="application/json")

    assert bad.status_code == 400 and "file_format" in bad.json()
    assert good.status_code == 201, good.content
    assert good.json()["url"].startswith("http://testserver/socialshop/feeds/m.csv?token=")
    assert Feed.objects.get(slug="m").token


def test_build_history_and_dry_run(staff, feed_storage_dir):
    make_product()
    make_product(images=0)
    feed = make_feed()

    built = staff.post(f"/socialshop/api/feeds/{feed.pk}/build/", content_type="application/json")
    history = staff.get(f"/socialshop/api/feeds/{feed.pk}/builds/").json()
    preview = staff.get(f"/socialshop/api/feeds/{feed.pk}/dry_run/").json()

    assert built.status_code == 202 and built.json()["status"] == "published"
    assert history[0]["items_written"] == 1 and history[0]["top_reasons"][0]["code"] == "missing_image"
    assert preview["excluded"][0]["code"] == "missing_image"
    assert staff.get(f"/socialshop/api/feeds/{feed.pk}/").json()["live_build"]["items_written"] == 1


def test_build_publishes_an_empty_feed_only_with_a_true_allow_empty(staff, feed_storage_dir):
    from shop_demo.store.models import Product

    make_product()
    feed = make_feed()
    url = f"/socialshop/api/feeds/{feed.pk}/build/"
    staff.post(url, content_type="application/json")
    Product.objects.all().delete()

    forced = staff.post(url, {"force": True, "allow_empty": "false"}, content_type="application/json")
    garbage = staff.post(url, {"allow_empty": "maybe"}, content_type="application/json")
    allowed = staff.post(url, {"allow_empty": True}, content_type="application/json")

    assert forced.status_code == 202 and forced.json()["status"] == "refused"
    assert garbage.status_code == 400
    assert allowed.status_code == 202 and allowed.json()["status"] == "published" and allowed.json()["written"] == 0


def test_schema_lists_the_feeds_resource(staff):
    response = staff.get("/socialshop/api/schema/")

    assert response.status_code == 200
    assert b"/feeds/{id}/build/" in response.content


@pytest.mark.parametrize(("rule", "message"), [
    ({"rule": {"nested": 1}}, "rule must be one of"),  # schemathesis: an object where the rule's name belongs was a 500
    ({"rule": ["on_sale"]}, "rule must be one of"),
    ({"rule": "field", "field": ["title"]}, "is not a product record field"),
    ({"rule": "new_arrival", "days": "soon"}, "days must be a whole number from 1 to 3650"),
    ({"rule": "best_seller", "top": 0}, "top must be a whole number from 1 to 10000"),
    ({"rule": "best_seller", "days": True}, "days must be a whole number"),
    ({"rule": "ids", "ids": "SKU-1", "value": "x"}, "ids must be a list of product ids"),
])
def test_a_malformed_label_rule_is_a_400_naming_the_label(staff, rule, message):  # type: ignore[no-untyped-def]
    answer = staff.post("/socialshop/api/feeds/", {"name": "M", "slug": "m", "platform": "meta", "file_format": "csv",
                                                    "custom_labels": [rule]}, content_type="application/json")
    assert answer.status_code == 400, answer.content
    assert "custom_label_0" in answer.content.decode() and message in answer.content.decode()
    assert not Feed.objects.exists()
