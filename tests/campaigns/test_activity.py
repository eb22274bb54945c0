"""Campaign activity (campaigns/activity.py, the admin activity page, the overview section and the API's
stats): members per state for each variant and the hold-out, codes issued and redeemed, emails sent,
landings from the campaign's links, per-day series; the page's query count does not grow with members,
and it needs the view permission like the other admin pages."""
from __future__ import annotations

import itertools
import re
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from socialshop.campaigns.activity import HOLDOUT, campaign_activity, overview
from socialshop.campaigns.models import Assignment, Campaign, CampaignMember, IssuedCode, MemberState, Touch
from socialshop.campaigns.targeting import record_touch, refresh_campaign
from tests.api.conftest import basic_client, make_user
from tests.campaigns.conftest import H, event, join, make_audience, make_campaign

pytestmark = pytest.mark.django_db
_seq = itertools.count(1)


def world(members: int, *, slug: str = "") -> Campaign:
    """A running campaign over ``members`` people in every state, with emails, codes and landings.

    Person i: qualified 2 h ago (targeted) except every 5th (10 minutes ago: waiting) and every 7th
    (100 h ago: expired); every 4th bought since (converted); every 3rd landed twice from the link.
    """
    now = timezone.now()
    audience = make_audience()
    campaign = make_campaign(audience, variants=(("A", 1), ("B", 1)), holdout_percent=20, channels=["email", "meta"],
                             max_landings_without_purchase=0, **({"slug": slug} if slug else {}))
    for i in range(members):
        visitor = f"activity-visitor-{next(_seq):06d}"
        ago = timedelta(minutes=10) if i % 5 == 0 else (100 * H if i % 7 == 0 else 2 * H)
        join(audience, f"v:{visitor}", qualified_at=now - ago, visitor_id=visitor)
        if i % 4 == 0:
            event("Purchase", visitor, at=now - ago + timedelta(minutes=5))
        if i % 3 == 0:
            for k in range(2):
                event("PageView", visitor, at=now - ago + timedelta(minutes=1 + k), utm={"utm_campaign": campaign.slug})
    refresh_campaign(campaign, now=now)
    for n, assignment in enumerate(Assignment.objects.filter(campaign=campaign, variant__isnull=False).order_by("person")):
        if n % 2 == 0:
            record_touch(assignment.person, campaign, "email", at=now - H)
        if n % 3 == 0:
            IssuedCode.objects.create(campaign=campaign, person=assignment.person, variant=assignment.variant,
                                      code=f"CODE-{next(_seq):08d}", expires_at=now + 24 * H,
                                      redeemed_at=now - H if n % 6 == 0 else None)
    return campaign


def test_activity_counts_each_arm_as_the_rows_say(settings: Any) -> None:
    campaign = world(60)
    activity = campaign_activity(campaign)
    assert [arm.name for arm in activity.arms] == [HOLDOUT, "A", "B"]
    arm_of = {a.person: a.variant_id for a in Assignment.objects.filter(campaign=campaign)}
    for arm in activity.arms:
        rows = [m for m in CampaignMember.objects.filter(campaign=campaign) if arm_of[m.person] == arm.variant_id]
        assert arm.states == {s: sum(1 for m in rows if m.state == s) for s in MemberState.values}
        assert arm.landings == sum(m.landings for m in rows) and arm.people_landed == sum(1 for m in rows if m.landings)
        touches = [t for t in Touch.objects.filter(campaign=campaign, channel="email") if arm_of[t.person] == arm.variant_id]
        assert arm.emails_sent == len(touches) and arm.people_emailed == len({t.person for t in touches})
        codes = [c for c in IssuedCode.objects.filter(campaign=campaign) if c.variant_id == arm.variant_id]
        assert (arm.codes_issued, arm.codes_redeemed) == (len(codes), sum(1 for c in codes if c.redeemed_at))
    holdout = activity.arms[0]
    assert holdout.members > 0 and holdout.emails_sent == 0 and holdout.codes_issued == 0
    every = Counter(CampaignMember.objects.filter(campaign=campaign).values_list("state", flat=True))
    assert activity.total.states == {s: every.get(s, 0) for s in MemberState.values} and activity.total.members == 60
    assert {s for s, n in activity.total.states.items() if n} >= {"waiting", "targeted", "converted", "expired"}
    assert activity.total.landings == 2 * 20  # every 3rd of 60 people landed twice
    assert sum(n for _, n in activity.per_day["landings"]) == 40
    assert sum(n for _, n in activity.per_day["emails sent"]) == activity.total.emails_sent > 0
    assert sum(n for _, n in activity.per_day["new members"]) == 60
    assert sum(n for _, n in activity.per_day["codes redeemed"]) == activity.total.codes_redeemed > 0


def test_landings_of_another_campaign_do_not_count() -> None:
    campaign = world(9, slug="mine")
    other = world(9, slug="other")
    assert campaign_activity(campaign).total.landings == 6 == campaign_activity(other).total.landings


def _page(client: Client, campaign: Campaign) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(f"/admin/socialshop/campaign/{campaign.pk}/activity/")
    assert response.status_code == 200
    return len(captured), response.content.decode()


def test_the_activity_page_shows_the_table_and_charts_in_queries_that_do_not_grow_with_members(admin_client: Client) -> None:
    small, big = world(10), world(200)
    few, _ = _page(admin_client, small)
    many, html = _page(admin_client, big)
    assert few == many
    activity = campaign_activity(big)
    row = re.search(r'data-arm="all">(.*?)</tr>', html, re.S).group(1)
    cells = [int(c) for c in re.findall(r'<td class="num">(\d+)</td>', row)]
    assert cells == [200, *(activity.total.states[s] for s in MemberState.values), activity.total.codes_issued,
                     activity.total.codes_redeemed, activity.total.emails_sent, activity.total.people_emailed,
                     activity.total.landings, activity.total.people_landed]
    assert "Members per state, by variant and hold-out" in html and "Per day, last 30 days" in html
    assert html.count('class="ss-chart-svg"') == 2 and "Email opens are not tracked" in re.sub(r"\s+", " ", html)


def test_the_change_page_and_the_list_link_to_the_activity(admin_client: Client) -> None:
    campaign = world(3)
    url = f"/admin/socialshop/campaign/{campaign.pk}/activity/"
    assert url in admin_client.get(f"/admin/socialshop/campaign/{campaign.pk}/change/").content.decode()
    listing = admin_client.get("/admin/socialshop/campaign/").content.decode()
    assert url in listing and ">emails<" in listing.lower() and ">targeted<" in listing.lower()


def _staff(name: str, *perms: str) -> Client:
    user = get_user_model().objects.create_user(name, password="pw-12345-x", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="socialshop", codename__in=perms))
    client = Client()
    client.force_login(user)
    return client


def test_the_activity_page_needs_the_view_permission() -> None:
    campaign = world(3)
    url = f"/admin/socialshop/campaign/{campaign.pk}/activity/"
    assert _staff("nobody").get(url).status_code == 403
    assert _staff("viewer", "view_campaign").get(url).status_code == 200
    assert Client().get(url).status_code == 302  # to the admin login
    assert _staff("viewer2", "view_campaign").get("/admin/socialshop/campaign/999999/activity/").status_code == 404


def test_the_overview_shows_live_campaigns_with_targeted_and_redeemed(admin_client: Client) -> None:
    running = world(30)
    make_campaign(name="Old one", status="ended")
    live = overview()
    assert [c.pk for c in live.campaigns] == [running.pk] and live.running == 1
    assert live.targeted == CampaignMember.objects.filter(campaign=running, state="targeted", holdout=False).count() > 0
    assert live.redeemed == IssuedCode.objects.filter(campaign=running, redeemed_at__isnull=False).count() > 0
    html = admin_client.get("/admin/socialshop/").content.decode()
    section = html[html.index(">Campaigns<"):]
    assert f"<li><strong>{live.targeted}</strong>members targeted now</li>" in section.replace("\n", "")
    assert "Old one" not in section and f"/admin/socialshop/campaign/{running.pk}/activity/" in section


def test_the_api_stats_give_each_arms_states_emails_and_landings() -> None:
    campaign = world(40)
    make_user("root", superuser=True)
    stats = basic_client("root").get(f"/socialshop/api/campaigns/{campaign.pk}/stats/").json()
    activity = {a.name: a for a in campaign_activity(campaign).arms}
    for arm in stats["arms"]:
        done = activity[arm["name"]]
        assert arm["states"] == done.states and arm["assigned"] == done.members
        assert (arm["emails_sent"], arm["landings"], arm["people_landed"]) == (done.emails_sent, done.landings, done.people_landed)
    assert stats["emails_sent"] == sum(a.emails_sent for a in activity.values()) and stats["landings"] == 14 * 2
    make_user("viewer", perms=("view_campaign",))
    assert basic_client("viewer").get(f"/socialshop/api/campaigns/{campaign.pk}/stats/").status_code == 200
    make_user("stranger")
    assert basic_client("stranger").get(f"/socialshop/api/campaigns/{campaign.pk}/stats/").status_code == 403
