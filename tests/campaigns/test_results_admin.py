"""The results dashboard in admin: permissions, the per-arm table and its CSV, charts, the list's ROAS and
lift columns, and a constant number of queries whatever the number of members or campaigns."""
from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from socialshop.campaigns.admin_results import COLUMNS
from socialshop.campaigns.models import Assignment, Campaign, PlatformReport
from tests.campaigns.conftest import event, make_campaign
from tests.campaigns.test_results import T0, history  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


def staff(*perms: str) -> Client:
    user = get_user_model().objects.create_user(f"staff-{len(perms)}-{'-'.join(perms)}"[:150], password="x", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=perms))
    client = Client()
    client.force_login(user)
    return client


def url(campaign: Campaign, suffix: str = "results/") -> str:
    return f"/admin/socialshop/campaign/{campaign.pk}/{suffix}"


def test_the_dashboard_shows_the_arms_charts_and_verdicts(admin_client: Client, history: Campaign) -> None:  # noqa: F811
    page = admin_client.get(url(history)).content.decode()
    assert "Results: Cart reminder" in page and 'id="ss-results-arms"' in page
    assert page.count("<svg") >= 6  # four time charts and two of platform figures
    assert "hold-out" in page and "not yet conclusive" in page and "Fixed-horizon" in page
    assert "ROAS / CPA" in page and "2.70" in page  # 135.00 attributed over 50.00 spend
    assert "CTR 4.0%" in page and "+200.0% (95% CI " in page
    assert "Download this table as CSV" in page
    change = admin_client.get(url(history, "change/")).content.decode()
    assert url(history) in change and "Results dashboard" in change


def test_the_csv_is_the_same_table(admin_client: Client, history: Campaign) -> None:  # noqa: F811
    response = admin_client.get(url(history, "results.csv"))
    assert response["Content-Type"].startswith("text/csv") and f"{history.slug}-results.csv" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert tuple(rows[0]) == COLUMNS
    assert [r[0] for r in rows[1:]] == ["hold-out", "A", "B"]
    a = dict(zip(COLUMNS, rows[2]))
    assert (a["members"], a["converted"], a["revenue"], a["codes issued"], a["codes redeemed"]) == ("3", "3", "115.00", "2", "1")


def test_a_variant_name_cannot_become_a_spreadsheet_formula(admin_client: Client) -> None:
    campaign = make_campaign(variants=(("=HYPERLINK(1)", 1),))
    rows = list(csv.reader(io.StringIO(admin_client.get(url(campaign, "results.csv")).content.decode())))
    assert rows[2][0] == "'=HYPERLINK(1)"


def test_permissions_view_for_the_page_and_export_for_the_csv(history: Campaign) -> None:  # noqa: F811
    nobody, viewer = staff(), staff("view_campaign")
    exporter = staff("view_campaign", "export_campaign_results")
    assert nobody.get(url(history)).status_code == 403 and nobody.get(url(history, "results.csv")).status_code == 403
    page = viewer.get(url(history))
    assert page.status_code == 200 and "Download this table as CSV" not in page.content.decode()
    assert viewer.get(url(history, "results.csv")).status_code == 403
    assert exporter.get(url(history, "results.csv")).status_code == 200


def test_an_unknown_campaign_is_a_404(admin_client: Client) -> None:
    assert admin_client.get("/admin/socialshop/campaign/999999/results/").status_code == 404


def _with_members(n: int) -> Campaign:
    campaign = make_campaign(variants=(("A", 1), ("B", 1)))
    a, b = list(campaign.variants.all())
    Assignment.objects.bulk_create([
        Assignment(campaign=campaign, person=f"v:q{campaign.pk}-{i}", variant=[None, a, b][i % 3], bucket=0.5,
                   qualified_at=T0, assigned_at=T0 + timedelta(days=i % 4)) for i in range(n)])
    for i in range(0, n, 4):
        event("Purchase", f"q{campaign.pk}-{i}", at=T0 + timedelta(days=5), value=Decimal("20"), currency="USD")
        event("PageView", f"q{campaign.pk}-{i}", at=T0 + timedelta(days=4), utm={"utm_campaign": campaign.slug})
    PlatformReport.objects.create(campaign=campaign, platform="meta", day=T0.date(), impressions=500, clicks=9,
                                  spend=Decimal("12.00"), currency="USD")
    return campaign


def test_the_dashboard_takes_the_same_number_of_queries_for_10_and_200_members(admin_client: Client) -> None:
    counts = []
    for n in (10, 200):
        campaign = _with_members(n)
        admin_client.get(url(campaign))  # warm the session and content types
        with CaptureQueriesContext(connection) as queries:
            response = admin_client.get(url(campaign))
        assert response.status_code == 200 and f"{n} members assigned" in response.content.decode()
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_the_list_shows_roas_and_lift_in_a_constant_number_of_queries(admin_client: Client, history: Campaign) -> None:  # noqa: F811
    admin_client.get("/admin/socialshop/campaign/")
    with CaptureQueriesContext(connection) as few:
        page = admin_client.get("/admin/socialshop/campaign/").content.decode()
    assert "ROAS" in page and "Lift vs hold-out" in page and "2.70" in page and "+200% (unsure)" in page
    for n in (10, 40, 80):
        _with_members(n)
    with CaptureQueriesContext(connection) as many:
        admin_client.get("/admin/socialshop/campaign/")
    assert len(many) == len(few)
