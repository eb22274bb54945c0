"""The audiences admin: structured rule fields per kind (never JSON), the list and change pages in a
constant number of queries, what would be uploaded (count, matchable per platform, a PII-free sample),
size over time, Build now / Sync now with their permissions, the customer-list import, the export links."""
from __future__ import annotations

import itertools
import re
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from socialshop.audiences.models import (
    Audience, AudienceBuild, AudienceMember, BuildStatus, CustomerListEntry, Destination, DestinationMember, RuleKind,
)
from socialshop.catalog import get_catalog
from socialshop.privacy.hashing import hash_user_data
from socialshop.tracking.models import Event
from tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db
_seq = itertools.count(1)
EMAIL_HASH = hash_user_data({"email": "ann@example.com"})["em"]


def add_url() -> str:
    return reverse("admin:socialshop_audience_add")


def change_url(audience: Audience) -> str:
    return reverse("admin:socialshop_audience_change", args=[audience.pk])


def make_audience(kind: str = RuleKind.VISITORS, **fields: Any) -> Audience:
    n = next(_seq)
    return Audience.objects.create(name=f"Audience {n}", slug=f"aud-{n}", kind=kind, **fields)


def staff(*codenames: str) -> Client:
    user = UserFactory(username=f"staff{next(_seq)}", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="socialshop", codename__in=codenames))
    client = Client()
    client.force_login(user)
    return client


def form_data(kind: str, **extra: Any) -> dict[str, Any]:
    n = next(_seq)
    return {"name": f"Rule {n}", "slug": f"rule-{n}", "kind": kind, "enabled": "on", "lookback_days": 30,
            "rebuild_every_minutes": 60, **extra}


def event(name: str, visitor: str, *, ago: timedelta = timedelta(hours=2), **fields: Any) -> Event:
    now = timezone.now()
    return Event.objects.create(event_id=f"adm-{next(_seq)}", name=name, visitor_id=visitor, occurred_at=now - ago,
                                received_at=now - ago, source="browser", may_share=True, **fields)


def built(audience: Audience, *, builds: int = 3) -> Audience:
    """Give ``audience`` members (one known by an email hash) and a build history."""
    now = timezone.now()
    AudienceMember.objects.create(audience=audience, person=f"h:{EMAIL_HASH}", reason="purchased", joined_at=now,
                                  qualified_at=now - timedelta(hours=1))
    AudienceMember.objects.create(audience=audience, person="v:visitor-without-hashes", visitor_id="visitor-without-hashes",
                                  reason="visited the store", joined_at=now, qualified_at=now)
    for i in range(builds):
        AudienceBuild.objects.create(audience=audience, status=BuildStatus.SUCCEEDED, started_at=now - timedelta(hours=builds - i),
                                     finished_at=now, size=10 + i, added=3 + i, removed=i)
    destination = Destination.objects.create(audience=audience, platform="meta", remote_id="2385", twin_id="9911",
                                             state="2 sent, 0 failed, 0 skipped",
                                             last_result={"batches": [{"op": "add", "members": 2, "accepted": 2,
                                                                       "rejected": 0, "num_received": 2}]})
    DestinationMember.objects.create(destination=destination, person=f"h:{EMAIL_HASH}", added_at=now)
    return audience


# The rule form: each kind's own fields, validated, stored in params.

def test_cart_abandoner_delays_in_hours_and_minutes_are_stored_as_minutes(admin_client: Client) -> None:
    data = form_data(RuleKind.CART_ABANDONERS, min_delay=90, min_delay_unit="minutes", max_delay=7 * 24,
                     max_delay_unit="hours", exclude_purchasers_days=30)
    response = admin_client.post(add_url(), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    audience = Audience.objects.get(slug=data["slug"])
    assert audience.params == {"min_delay_minutes": 90, "max_delay_minutes": 7 * 24 * 60}
    page = admin_client.get(change_url(audience)).content.decode()
    assert 'name="min_delay" value="90"' in page and 'name="max_delay" value="168"' in page
    assert "params" not in re.findall(r'name="([a-z_]+)"', page)  # never a raw JSON field


def test_a_max_delay_below_the_min_delay_is_refused_with_a_message(admin_client: Client) -> None:
    data = form_data(RuleKind.CART_ABANDONERS, min_delay=5, min_delay_unit="hours", max_delay=2, max_delay_unit="hours")
    response = admin_client.post(add_url(), data)
    assert response.status_code == 200
    assert "The maximum delay must be longer than the minimum delay." in response.content.decode()
    assert not Audience.objects.filter(slug=data["slug"]).exists()


def test_viewers_products_are_checked_against_the_catalogue(admin_client: Client) -> None:
    ProductFactory(name="Linen shirt")
    real = next(get_catalog().iter_records()).id
    bad = admin_client.post(add_url(), form_data(RuleKind.VIEWERS, products=f"{real}\nNO-SUCH-SKU"))
    assert bad.status_code == 200 and "Not in the catalogue: NO-SUCH-SKU." in bad.content.decode()
    none = admin_client.post(add_url(), form_data(RuleKind.VIEWERS))
    assert "Pick at least one product or category" in none.content.decode()
    data = form_data(RuleKind.VIEWERS, products=real)
    assert admin_client.post(add_url(), data).status_code == 302
    assert Audience.objects.get(slug=data["slug"]).params == {"products": [real]}


def test_purchasers_post_engagers_and_the_lookalike_seed_take_their_own_fields(admin_client: Client) -> None:
    buyers = form_data(RuleKind.PURCHASERS, lookback_days=180, recency_days=90, min_orders=2, min_value="49.50",
                       top_percent=5, products="ignored: not this kind's field")
    assert admin_client.post(add_url(), buyers).status_code == 302
    assert Audience.objects.get(slug=buyers["slug"]).params == {"recency_days": 90, "min_orders": 2, "min_value": 49.5}
    engagers = form_data(RuleKind.POST_ENGAGERS, post_actions=["PostClick", "PostSave"])
    assert admin_client.post(add_url(), engagers).status_code == 302
    assert Audience.objects.get(slug=engagers["slug"]).params == {"actions": ["PostClick", "PostSave"]}
    seed = form_data(RuleKind.LOOKALIKE_SEED, top_percent=10, lookalike_country="de", lookalike_percent=3)
    assert admin_client.post(add_url(), seed).status_code == 302
    assert Audience.objects.get(slug=seed["slug"]).params == {"top_percent": 10, "lookalike_country": "DE", "lookalike_size": 0.03}
    wrong = admin_client.post(add_url(), form_data(RuleKind.LOOKALIKE_SEED, top_percent=10, lookalike_country="Atlantis"))
    assert "is not an ISO 3166 country code" in wrong.content.decode()


def test_an_audience_cannot_exclude_itself(admin_client: Client) -> None:
    audience = make_audience()
    data = form_data(RuleKind.VISITORS, name=audience.name, slug=audience.slug, exclude=[audience.pk])
    response = admin_client.post(change_url(audience), data)
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()


# The pages.

def test_change_page_shows_count_matchable_sample_chart_and_both_sides_per_platform(admin_client: Client) -> None:
    audience = built(make_audience(RuleKind.PURCHASERS, params={"recency_days": 30}))
    page = admin_client.get(change_url(audience)).content.decode()
    assert "<b>2</b> members now" in page
    matchable = re.search(r'<table class="ss-table ss-matchable">.*?</table>', page, re.S).group(0)
    assert re.search(r"<td>Meta</td><td class=\"num\">1</td><td class=\"num\">100</td>", matchable)
    assert "Counted over every member." in page
    assert f"h:{EMAIL_HASH[:8]}…" in page and EMAIL_HASH not in page  # shortened, never the whole key
    assert "purchased" in page and "visited the store" in page
    chart = re.search(r'<figure class="ss-chart".*?</figure>', page, re.S).group(0)
    assert "<svg" in chart and "Members after each build" in chart and "<table" in chart  # with its numbers as text
    assert "+5" in page and "−2" in page  # the last build's additions and removals
    assert "<code>2385</code>" in page and "<code>9911</code>" in page and "num_received: 2" in page
    assert "smallest list served" in page


def test_change_page_says_why_a_platform_keeps_no_twin_and_how_its_lookalike_stands(admin_client: Client) -> None:
    audience = built(make_audience(RuleKind.CART_ABANDONERS, params={"min_delay_minutes": 60, "max_delay_minutes": 10080}))
    why = "no website twin: Pinterest does not support website audiences that exclude an action"
    Destination.objects.create(audience=audience, platform="pinterest", remote_id="1:2", state="2 sent, 0 failed, 0 skipped",
                               last_result={"twin": {"id": "", "rule": "", "state": why},
                                            "lookalike": {"id": "", "state": "no lookalike: the seed holds 40 of 100"}})
    Destination.objects.filter(platform="meta").update(last_result={"twin": {"id": "9911", "state": "website twin in step"}})
    page = admin_client.get(change_url(audience)).content.decode()
    assert why in page and "no lookalike: the seed holds 40 of 100" in page
    assert "<code>9911</code><br>State: website twin in step" in page


def test_list_shows_size_matched_last_build_and_destination_state(admin_client: Client) -> None:
    built(make_audience(size=2))
    page = admin_client.get(reverse("admin:socialshop_audience_changelist")).content.decode()
    assert "<b>meta</b>: 1 of 1; 2 sent, 0 failed" in page and "Succeeded" in page and "+5 −2" in page


def test_list_and_change_pages_take_a_constant_number_of_queries(admin_client: Client, django_assert_max_num_queries: Any) -> None:
    first = built(make_audience())
    admin_client.get(reverse("admin:socialshop_audience_changelist"))  # session and content types warmed
    with django_assert_max_num_queries(12) as one:
        admin_client.get(reverse("admin:socialshop_audience_changelist"))
    for _ in range(6):
        built(make_audience(), builds=4)
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert admin_client.get(reverse("admin:socialshop_audience_changelist")).status_code == 200
    with django_assert_max_num_queries(40) as change:
        admin_client.get(change_url(first))
    for _ in range(30):
        AudienceMember.objects.create(audience=first, person=f"v:x{next(_seq)}", visitor_id=f"x{next(_seq)}",
                                      joined_at=timezone.now())
    AudienceBuild.objects.create(audience=first, status=BuildStatus.FAILED, started_at=timezone.now(), error="boom")
    with django_assert_max_num_queries(len(change.captured_queries)):
        assert admin_client.get(change_url(first)).status_code == 200


# Build now and Sync now.

def test_build_now_needs_the_build_permission_and_builds(settings: Any) -> None:
    audience = make_audience()
    event("PageView", "v-one")
    url = reverse("admin:socialshop_audience_build", args=[audience.pk])
    assert staff("view_audience", "change_audience").post(url).status_code == 403
    client = staff("view_audience", "build_audience")
    assert "Evaluate the rule" in client.get(url).content.decode()
    response = client.post(url, follow=True)
    assert "1 members (+1 −0)" in response.content.decode()
    assert AudienceBuild.objects.get(audience=audience).status == BuildStatus.SUCCEEDED


def test_build_action_on_the_list_needs_the_build_permission() -> None:
    audience = make_audience()
    changelist = reverse("admin:socialshop_audience_changelist")
    viewer = staff("view_audience", "change_audience")
    assert "build_now" not in viewer.get(changelist).content.decode()
    builder = staff("view_audience", "change_audience", "build_audience")
    builder.post(changelist, {"action": "build_now", "_selected_action": [audience.pk]})
    assert AudienceBuild.objects.filter(audience=audience, status=BuildStatus.SUCCEEDED).exists()


def test_sync_now_needs_change_permission_and_says_when_nothing_can_be_uploaded(settings: Any) -> None:
    audience = built(make_audience())
    url = reverse("admin:socialshop_audience_sync", args=[audience.pk])
    assert staff("view_audience", "build_audience").post(url).status_code == 403
    client = staff("view_audience", "change_audience")
    page = client.post(url, follow=True).content.decode()
    assert "No platform has audience uploads set up" in page
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "PLATFORMS": {**settings.SOCIALSHOP["PLATFORMS"], "meta": {
        **settings.SOCIALSHOP["PLATFORMS"]["meta"], "ad_account_id": "act_1"}}}
    DestinationMember.objects.all().delete()
    Destination.objects.all().delete()
    page = client.post(url, follow=True).content.decode()
    assert "below Meta&#x27;s minimum of 100: not uploaded" in page
    assert Destination.objects.get(audience=audience, platform="meta").state.endswith("not uploaded")


# The customer-list import and the export links.

def test_customer_list_import_previews_the_mapping_then_imports_hashes_only_and_builds(admin_client: Client) -> None:
    audience = make_audience(RuleKind.CUSTOMER_LIST)
    url = reverse("admin:socialshop_audience_import", args=[audience.pk])
    csv_bytes = b"email,phone,first_name\nann@example.com,,Ann\nnot-an-email,,Bob\nbo@example.org,+1 415 555 0100,Bo\n"
    step1 = admin_client.post(url, {"file": SimpleUploadedFile("list.csv", csv_bytes, content_type="text/csv")})
    page = step1.content.decode()
    assert step1.status_code == 200 and "ann@example.com" not in page  # masked preview
    assert re.search(r'<option value="0" selected>1: email</option>', page)
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    step2 = admin_client.post(url, {"token": token, "map_email": "0", "map_phone": "1", "map_first_name": "2"}, follow=True)
    text = step2.content.decode()
    assert "2 of 3 rows imported, 1 invalid" in text and "line 3" in text
    entries = list(CustomerListEntry.objects.filter(audience=audience).values_list("hashes", flat=True))
    assert len(entries) == 2 and all("ann@example.com" not in str(h) for h in entries)
    assert AudienceMember.objects.filter(audience=audience, left_at__isnull=True, person__startswith="l:").count() == 2
    again = admin_client.post(url, {"token": token, "map_email": "0"}, follow=True)
    assert "expired or was already imported" in again.content.decode()


def test_import_refuses_a_mapping_without_email_or_phone_and_other_kinds(admin_client: Client) -> None:
    audience = make_audience(RuleKind.CUSTOMER_LIST)
    url = reverse("admin:socialshop_audience_import", args=[audience.pk])
    page = admin_client.post(url, {"file": SimpleUploadedFile("l.csv", b"email,first_name\na@b.co,A\n")}).content.decode()
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    refused = admin_client.post(url, {"token": token, "map_first_name": "1"}).content.decode()
    assert "map an email or a phone column" in refused and not CustomerListEntry.objects.exists()
    other = make_audience(RuleKind.VISITORS)
    response = admin_client.get(reverse("admin:socialshop_audience_import", args=[other.pk]), follow=True)
    assert "only customer-list audiences take an uploaded list" in response.content.decode()
    assert staff("view_audience").get(url).status_code == 403


def test_export_links_only_for_users_with_the_export_permission() -> None:
    audience = built(make_audience())
    from socialshop.audiences.admin import export_url

    link = export_url(audience, "meta")
    viewer = staff("view_audience", "change_audience").get(change_url(audience)).content.decode()
    exporter = staff("view_audience", "change_audience", "export_audience").get(change_url(audience)).content.decode()
    assert "Export for Meta" not in viewer
    assert link == f"/socialshop/staff/audiences/{audience.slug}/export/meta.csv"
    assert f'href="{link}"' in exporter and "Export for Meta" in exporter


def test_a_view_only_user_sees_the_rule_in_words_and_no_form_fields() -> None:
    audience = built(make_audience(RuleKind.CART_ABANDONERS, params={"min_delay_minutes": 60, "max_delay_minutes": 600}))
    page = staff("view_audience").get(change_url(audience)).content.decode()
    assert "min delay minutes: 60" in page and "max delay minutes: 600" in page
    assert 'name="min_delay"' not in page and "Members after each build" in page


def test_an_import_while_another_runs_is_refused_with_a_message(admin_client: Client) -> None:
    from socialshop.core.jobs import single_flight

    audience = make_audience(RuleKind.CUSTOMER_LIST)
    url = reverse("admin:socialshop_audience_import", args=[audience.pk])
    page = admin_client.post(url, {"file": SimpleUploadedFile("l.csv", b"email\na@b.co\n")}).content.decode()
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    with single_flight(f"socialshop.import_list:{audience.pk}"):
        busy = admin_client.post(url, {"token": token, "map_email": "0"})
    assert busy.status_code == 200 and "Another import into this audience is running" in busy.content.decode()
    done = admin_client.post(url, {"token": token, "map_email": "0"}, follow=True)
    assert "1 of 1 rows imported" in done.content.decode()
