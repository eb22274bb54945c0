"""Targeting: the timing window's edges, the caps (landings, emails per campaign and per day across
campaigns), hold-out never targeted, conversions, opt-outs and suppressions, a campaign that ends."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from socialshop.campaigns import targeting
from socialshop.campaigns.models import Assignment, CampaignMember, CampaignStatus, MemberState, Suppression
from socialshop.campaigns.targeting import record_touch, refresh_campaign, targeted_persons
from socialshop.privacy.models import ConsentRecord
from tests.campaigns.conftest import H, MIN, NOW, event, join, make_audience, make_campaign, person_with_variant

pytestmark = pytest.mark.django_db


def persons(campaign, channel: str = "email", now=NOW) -> set[str]:  # type: ignore[no-untyped-def]
    return {t.person for t in targeted_persons(campaign, channel=channel, now=now)}


def state(campaign, person: str) -> str:  # type: ignore[no-untyped-def]
    return CampaignMember.objects.get(campaign=campaign, person=person).state


def test_an_action_exactly_at_the_minimum_delay_is_targeted_and_a_second_later_one_waits() -> None:
    audience = make_audience()
    campaign = make_campaign(audience, holdout_percent=0, min_delay_minutes=60)
    join(audience, "v:at-min", qualified_at=NOW - 60 * MIN)
    join(audience, "v:too-fresh", qualified_at=NOW - 60 * MIN + timedelta(seconds=1))
    refresh_campaign(campaign, now=NOW)
    assert state(campaign, "v:at-min") == MemberState.TARGETED
    assert state(campaign, "v:too-fresh") == MemberState.WAITING
    assert persons(campaign) == {"v:at-min"}
    # Time passes: the waiting member becomes due without another refresh.
    assert persons(campaign, now=NOW + timedelta(seconds=1)) == {"v:at-min", "v:too-fresh"}


def test_an_action_exactly_at_the_maximum_age_is_targeted_and_a_second_older_one_expired() -> None:
    audience = make_audience()
    campaign = make_campaign(audience, holdout_percent=0, max_age_hours=72)
    join(audience, "v:at-max", qualified_at=NOW - 72 * H)
    join(audience, "v:too-old", qualified_at=NOW - 72 * H - timedelta(seconds=1))
    refresh_campaign(campaign, now=NOW)
    assert state(campaign, "v:at-max") == MemberState.TARGETED
    assert state(campaign, "v:too-old") == MemberState.EXPIRED
    assert persons(campaign) == {"v:at-max"}
    assert persons(campaign, now=NOW + timedelta(seconds=1)) == set()


def test_landings_from_the_campaign_link_without_a_purchase_cap_the_member() -> None:
    audience = make_audience()
    campaign = make_campaign(audience, holdout_percent=0, max_landings_without_purchase=2)
    join(audience, "v:lander", qualified_at=NOW - 2 * H, visitor_id="lander")
    join(audience, "v:once", qualified_at=NOW - 2 * H, visitor_id="once")
    refresh_campaign(campaign, now=NOW)
    utm = {"utm_campaign": campaign.slug, "utm_source": "socialshop"}
    for minutes in (50, 40):
        event("PageView", "lander", at=NOW - minutes * MIN, utm=utm)
    event("PageView", "once", at=NOW - 30 * MIN, utm=utm)
    event("PageView", "once", at=NOW - 20 * MIN, utm={"utm_campaign": "another-campaign"})
    event("PageView", "once", at=NOW - 3 * H, utm=utm)  # before the action: not a landing of this stay
    refresh_campaign(campaign, now=NOW)
    assert state(campaign, "v:lander") == MemberState.CAPPED
    assert CampaignMember.objects.get(campaign=campaign, person="v:once").landings == 1
    assert persons(campaign) == {"v:once"}


def test_a_purchase_after_the_action_converts_and_stops_targeting() -> None:
    audience = make_audience()
    campaign = make_campaign(audience, holdout_percent=0)
    join(audience, "v:buyer", qualified_at=NOW - 3 * H, visitor_id="buyer")
    join(audience, "v:bought-before", qualified_at=NOW - 3 * H, visitor_id="bought-before")
    event("Purchase", "bought-before", at=NOW - 5 * H, order_id="o-old", value=Decimal("9"))
    refresh_campaign(campaign, now=NOW)
    event("Purchase", "buyer", at=NOW - 10 * MIN, order_id="o-new", value=Decimal("30"))
    refresh_campaign(campaign, now=NOW)
    member = CampaignMember.objects.get(campaign=campaign, person="v:buyer")
    assert member.state == MemberState.CONVERTED and member.converted_at is not None
    assert persons(campaign) == {"v:bought-before"}


def test_email_caps_count_touches_per_person_across_campaigns() -> None:
    audience = make_audience()
    first = make_campaign(audience, holdout_percent=0, email_per_day=1, email_per_campaign=3)
    second = make_campaign(audience, holdout_percent=0, email_per_day=1, email_per_campaign=3)
    for person in ("v:both", "v:fresh"):
        join(audience, person, qualified_at=NOW - 2 * H)
    refresh_campaign(first, now=NOW)
    refresh_campaign(second, now=NOW)
    assert persons(first) == persons(second) == {"v:both", "v:fresh"}
    record_touch("v:both", first, "email", at=NOW - H)
    # One email today from the first campaign: the second may not send one either (per day, across campaigns).
    assert persons(second) == {"v:fresh"}
    assert persons(first) == {"v:fresh"}
    # The next day the daily cap is free again; platform channels are not capped by emails.
    assert persons(second, now=NOW + 23 * H) == {"v:both", "v:fresh"}
    assert persons(second, channel="meta") == {"v:both", "v:fresh"}


def test_the_per_campaign_email_cap_marks_the_member_capped() -> None:
    audience = make_audience()
    campaign = make_campaign(audience, holdout_percent=0, email_per_day=5, email_per_campaign=2, max_age_hours=200)
    join(audience, "v:reader", qualified_at=NOW - 2 * H)
    refresh_campaign(campaign, now=NOW)
    record_touch("v:reader", campaign, "email", at=NOW - 100 * MIN)
    assert persons(campaign) == {"v:reader"}
    record_touch("v:reader", campaign, "email", at=NOW - 90 * MIN)
    assert persons(campaign) == set()
    refresh_campaign(campaign, now=NOW)
    assert state(campaign, "v:reader") == MemberState.CAPPED


def test_holdout_members_are_never_targeted() -> None:
    audience = make_audience()
    campaign = make_campaign(audience, holdout_percent=50)
    held = [person_with_variant(campaign, holdout=True, start=i * 1000) for i in range(3)]
    reached = [person_with_variant(campaign, holdout=False, start=i * 1000) for i in range(3)]
    for person in held + reached:
        join(audience, person, qualified_at=NOW - 2 * H)
    refresh_campaign(campaign, now=NOW)
    assert set(Assignment.objects.filter(campaign=campaign, variant__isnull=True).values_list("person", flat=True)) == set(held)
    assert all(state(campaign, p) == MemberState.TARGETED for p in held)  # measured like everyone else...
    for channel in ("email", "meta"):
        assert persons(campaign, channel) == set(reached)  # ...but never reached


def test_opted_out_and_suppressed_persons_are_not_targeted() -> None:
    audience = make_audience()
    campaign = make_campaign(audience, holdout_percent=0)
    for person in ("v:optout-visitor", "v:kept", "u:77", "h:abc"):
        join(audience, person, qualified_at=NOW - 2 * H)
    refresh_campaign(campaign, now=NOW)
    ConsentRecord.objects.create(visitor_id="optout-visitor", opted_out=True)
    ConsentRecord.objects.create(visitor_id="some-device-of-77", user_id=None, gpc=True)
    from socialshop.audiences.models import VisitorLink
    VisitorLink.objects.create(visitor_id="some-device-of-77", person="u:77", user_id=77, linked_at=NOW)
    Suppression.objects.create(person="h:abc", channel="email", reason="one-click unsubscribe")
    assert persons(campaign) == {"v:kept"}
    assert persons(campaign, "meta") == {"v:kept", "h:abc"}  # unsubscribed from email only


def test_nothing_is_targeted_once_the_campaign_ends_even_mid_refresh() -> None:
    audience = make_audience()
    campaign = make_campaign(audience, holdout_percent=0, ends_at=NOW + 10 * MIN)
    join(audience, "v:early", qualified_at=NOW - 2 * H)
    refresh_campaign(campaign, now=NOW)
    assert persons(campaign) == {"v:early"}
    join(audience, "v:late", qualified_at=NOW - 2 * H)
    stats = refresh_campaign(campaign, now=NOW + 10 * MIN)  # the end is reached while refreshing
    assert stats.status == CampaignStatus.ENDED and stats.assigned == 0
    assert not Assignment.objects.filter(campaign=campaign, person="v:late").exists()
    assert persons(campaign, now=NOW + 10 * MIN) == set()
    assert persons(campaign, now=NOW + 9 * MIN) == {"v:early"}


def test_draft_and_paused_campaigns_assign_and_target_nobody() -> None:
    audience = make_audience()
    campaign = make_campaign(audience, holdout_percent=0, status=CampaignStatus.PAUSED)
    join(audience, "v:x", qualified_at=NOW - 2 * H)
    assert refresh_campaign(campaign, now=NOW).assigned == 0
    assert persons(campaign) == set()


def test_a_channel_the_campaign_does_not_use_is_refused() -> None:
    campaign = make_campaign(channels=["meta"])
    with pytest.raises(ValueError, match="does not run on channel 'email'"):
        targeted_persons(campaign, channel="email", now=NOW)


def test_assignment_runs_in_batches_with_constant_queries_per_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    audience = make_audience()
    campaign = make_campaign(audience, holdout_percent=10)
    monkeypatch.setattr(targeting, "BATCH", 50)
    from socialshop.audiences.models import AudienceMember
    AudienceMember.objects.bulk_create([AudienceMember(audience=audience, person=f"v:p{i:04d}", qualified_at=NOW - H,
                                                       joined_at=NOW - H) for i in range(120)])
    with CaptureQueriesContext(connection) as few:
        targeting.assign_new_members(campaign, now=NOW)
    assert Assignment.objects.filter(campaign=campaign).count() == 120
    AudienceMember.objects.bulk_create([AudienceMember(audience=audience, person=f"v:q{i:04d}", qualified_at=NOW - H,
                                                       joined_at=NOW - H) for i in range(240)])
    with CaptureQueriesContext(connection) as more:
        targeting.assign_new_members(campaign, now=NOW)
    assert Assignment.objects.filter(campaign=campaign).count() == 360
    # 3 batches of new members then 5: per batch one SELECT and one INSERT, plus a fixed set-up.
    assert len(more.captured_queries) - len(few.captured_queries) == 2 * (5 - 3)


def test_effective_status_follows_the_start_and_end_times() -> None:
    campaign = make_campaign(starts_at=NOW + H, ends_at=NOW + 2 * H)
    assert campaign.effective_status(NOW) == CampaignStatus.SCHEDULED
    assert campaign.effective_status(NOW + H) == CampaignStatus.RUNNING
    assert campaign.effective_status(NOW + 2 * H) == CampaignStatus.ENDED
    campaign.status = CampaignStatus.PAUSED
    assert campaign.effective_status(NOW + H) == CampaignStatus.PAUSED


def test_the_task_refreshes_every_live_campaign_and_skips_a_locked_one() -> None:
    from socialshop.core.jobs import single_flight
    from socialshop.tasks import refresh_campaigns

    audience = make_audience()
    live = make_campaign(audience, holdout_percent=0)
    locked = make_campaign(audience, holdout_percent=0)
    draft = make_campaign(audience, status=CampaignStatus.DRAFT)
    join(audience, "v:someone", qualified_at=NOW - 2 * H)
    with single_flight(f"socialshop.refresh_campaign:{locked.pk}"):
        result = refresh_campaigns.apply().get()
    assert result[live.slug]["assigned"] == 1 and result[live.slug]["states"]["targeted"] == 1
    assert result[locked.slug] == {"skipped": "a refresh is already running"}
    assert draft.slug not in result
