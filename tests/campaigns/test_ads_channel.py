"""The ads channel end to end: a campaign's refresh writes its platform audiences (one per variant and
platform channel), the audiences sync sends the adds and removes to the Meta stand-in on 127.0.0.1
(shop_demo/fakeplatforms/audience_meta.py), and each leave rule (purchase, landing cap, maximum age, opt-out,
pause) becomes a removal there; the hold-out never reaches it."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from shop_demo.fakeplatforms.audience_meta import FakeMetaAudiences
from shop_demo.fakeplatforms.audience_meta import settings as meta_settings
from shop_demo.fakeplatforms.audience_pinterest import FakePinterestAudiences
from shop_demo.fakeplatforms.audience_pinterest import settings as pinterest_settings
from socialshop.audiences.builder import build_audience
from socialshop.audiences.models import Audience, AudienceBuild, AudienceMember, BuildStatus, Destination, RuleKind
from socialshop.audiences.schedule import due_audiences
from socialshop.audiences.sync import sync_audiences
from socialshop.campaigns.assignment import Split, assign
from socialshop.campaigns.models import AdAudience, Assignment, Campaign, CampaignStatus
from socialshop.campaigns.targeting import refresh_live_campaigns
from socialshop.privacy.models import ConsentRecord
from tests.audiences.members import email_hash, shoppers
from tests.campaigns.conftest import event, make_audience, make_campaign

pytestmark = pytest.mark.django_db
USERS = r"/v\d+\.\d+/\d+/users"
H, MIN = timedelta(hours=1), timedelta(minutes=1)


@pytest.fixture(scope="module")
def meta_server() -> Iterator[FakeMetaAudiences]:
    server = FakeMetaAudiences().start()
    yield server
    server.stop()


@pytest.fixture
def meta(meta_server: FakeMetaAudiences, settings: Any) -> FakeMetaAudiences:
    meta_server.reset()
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "PLATFORMS": {"meta": meta_settings(meta_server.url)},
                           "FORWARD_BACKOFF_SECONDS": 30}
    return meta_server


def source_audience() -> Audience:
    """The campaign's audience, its members written by hand (not rebuilt, not synced itself)."""
    audience = make_audience()
    Audience.objects.filter(pk=audience.pk).update(enabled=False)
    return audience


def crowd(audience: Audience, numbers: range | list[int], *, qualified_at: datetime) -> None:
    """Consenting shoppers v-<n> (their hashed emails in the event store) in ``audience``, qualified at ``qualified_at``."""
    shoppers(numbers)
    AudienceMember.objects.bulk_create([
        AudienceMember(audience=audience, person=f"v:v-{n}", visitor_id=f"v-{n}", qualified_at=qualified_at,
                       joined_at=qualified_at) for n in numbers])


def holdout_numbers(campaign: Campaign) -> set[int]:
    return {int(p.split("-")[-1]) for p in Assignment.objects.filter(campaign=campaign, variant__isnull=True)
            .values_list("person", flat=True)}


def reachable(campaign: Campaign, start: int, count: int) -> list[int]:
    """``count`` shopper numbers from ``start`` on whom the campaign's split puts in a variant, not the hold-out."""
    split = Split.of(campaign)
    assert split is not None
    return [n for n in range(start, start + 1000) if assign(split, f"v:v-{n}")[1] is not None][:count]


def remote(campaign: Campaign, platform: str = "meta") -> Destination:
    link = AdAudience.objects.get(campaign=campaign, platform=platform)
    return Destination.objects.get(audience=link.audience, platform=platform)


def removed_on(meta: FakeMetaAudiences) -> set[str]:
    """Every EMAIL value Meta was asked to remove (column 1 of the fixed schema is looked up by name)."""
    out = set()
    for call in meta.calls("DELETE", USERS):
        column = call.body["payload"]["schema"].index("EMAIL")
        out |= {row[column] for row in call.body["payload"]["data"]}
    return out


def sent_on(meta: FakeMetaAudiences) -> set[str]:
    out = set()
    for call in meta.calls("POST", USERS):
        column = call.body["payload"]["schema"].index("EMAIL")
        out |= {row[column] for row in call.body["payload"]["data"]}
    return out


def test_targeted_people_reach_meta_and_each_leave_rule_removes_them_at_the_next_sync(meta: FakeMetaAudiences) -> None:
    now = timezone.now().replace(microsecond=0)
    audience = source_audience()
    campaign = make_campaign(audience, channels=["meta"], max_landings_without_purchase=2, holdout_percent=10)
    late, old = reachable(campaign, 300, 2)
    crowd(audience, range(150), qualified_at=now - 2 * H)
    crowd(audience, [late], qualified_at=now - 30 * MIN)  # inside the minimum delay of 60 minutes
    crowd(audience, [old], qualified_at=now - 71 * H)     # one hour before the maximum age of 72 hours

    refresh_live_campaigns(now=now)
    sync_audiences()
    dest = remote(campaign)
    held = holdout_numbers(campaign)
    assert held
    expected = {email_hash(n) for n in [*range(150), old] if n not in held}
    assert len(expected) >= 100  # Meta's minimum: the list was really uploaded
    assert meta.members(dest.remote_id) == expected
    assert email_hash(late) not in sent_on(meta)  # still waiting for the minimum delay
    assert not {email_hash(n) for n in held} & sent_on(meta)  # the hold-out never reaches the platform

    # 31 minutes on: the waiting person is due; a buyer, a person who landed twice and one who opted out leave.
    buyer, lander, refuser = sorted(set(range(150)) - held)[:3]
    event("Purchase", f"v-{buyer}", at=now + MIN, order_id="o-1")
    for minute in (2, 3):
        event("PageView", f"v-{lander}", at=now + minute * MIN, utm={"utm_campaign": campaign.slug})
    ConsentRecord.objects.filter(visitor_id=f"v-{refuser}").update(opted_out=True)
    refresh_live_campaigns(now=now + 31 * MIN)
    sync_audiences()
    on_meta = meta.members(dest.remote_id)
    assert email_hash(late) in on_meta and email_hash(late) in sent_on(meta)
    for n in (buyer, lander, refuser):
        assert email_hash(n) not in on_meta and email_hash(n) in removed_on(meta)
    assert email_hash(old) in on_meta

    # 61 minutes on, person old's action is 72 hours and a minute old: past the maximum age.
    refresh_live_campaigns(now=now + 61 * MIN)
    sync_audiences()
    assert email_hash(old) not in meta.members(dest.remote_id) and email_hash(old) in removed_on(meta)
    assert not {email_hash(n) for n in held} & sent_on(meta)

    # Paused: the campaign's audience is emptied and the next sync removes everyone from Meta.
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.PAUSED)
    refresh_live_campaigns(now=now + 62 * MIN)
    assert AdAudience.objects.get(campaign=campaign).audience.size == 0
    sync_audiences()
    assert meta.members(dest.remote_id) == set()
    builds = AudienceBuild.objects.count()
    assert refresh_live_campaigns(now=now + 63 * MIN) == {}  # an emptied, paused campaign is left alone
    assert AudienceBuild.objects.count() == builds


def test_an_ended_campaign_empties_its_audience(meta: FakeMetaAudiences) -> None:
    now = timezone.now().replace(microsecond=0)
    audience = source_audience()
    crowd(audience, range(130), qualified_at=now - 2 * H)
    campaign = make_campaign(audience, channels=["meta"], holdout_percent=0, ends_at=now + H)
    refresh_live_campaigns(now=now)
    sync_audiences()
    dest = remote(campaign)
    assert len(meta.members(dest.remote_id)) == 130
    refresh_live_campaigns(now=now + H)  # the end time has come: status still "running", effective "ended"
    sync_audiences()
    assert meta.members(dest.remote_id) == set()
    assert len(removed_on(meta)) == 130


def test_below_the_platform_minimum_nothing_is_uploaded_and_the_reason_is_kept(meta: FakeMetaAudiences) -> None:
    now = timezone.now().replace(microsecond=0)
    audience = source_audience()
    crowd(audience, range(20), qualified_at=now - 2 * H)
    campaign = make_campaign(audience, channels=["meta"], holdout_percent=0)
    refresh_live_campaigns(now=now)
    sync_audiences()
    dest = remote(campaign)
    assert dest.remote_id == "" and "below Meta's minimum of 100" in dest.state
    assert meta.calls("POST", USERS) == []


def test_one_audience_per_variant_each_holding_only_its_variants_people(meta: FakeMetaAudiences) -> None:
    now = timezone.now().replace(microsecond=0)
    audience = source_audience()
    crowd(audience, range(60), qualified_at=now - 2 * H)
    campaign = make_campaign(audience, channels=["meta", "email"], holdout_percent=10, variants=(("A", 1), ("B", 1)))
    refresh_live_campaigns(now=now)
    links = {a.variant.name: a for a in AdAudience.objects.filter(campaign=campaign).select_related("variant", "audience")}
    assert set(links) == {"A", "B"}
    for name, link in links.items():
        assert link.audience.kind == RuleKind.CAMPAIGN and link.audience.params == {"platform": "meta"}
        members = set(AudienceMember.objects.filter(audience=link.audience, left_at__isnull=True).values_list("person", flat=True))
        assigned = set(Assignment.objects.filter(campaign=campaign, variant=link.variant).values_list("person", flat=True))
        assert members == assigned and members
        # the upload reads identifiers from the visitor ids copied from the campaign's audiences
        assert set(AudienceMember.objects.filter(audience=link.audience).values_list("visitor_id", flat=True)) == {
            p[2:] for p in members}


def test_a_campaign_audience_goes_to_its_own_platform_only(meta: FakeMetaAudiences, settings: Any) -> None:
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "PLATFORMS": {
        **settings.SOCIALSHOP["PLATFORMS"], "pinterest": {"ad_account_id": "549755885175", "access_token": "t",
                                                          "api_base": "http://127.0.0.1:9"}}}
    now = timezone.now().replace(microsecond=0)
    audience = source_audience()
    crowd(audience, range(5), qualified_at=now - 2 * H)
    campaign = make_campaign(audience, channels=["meta"], holdout_percent=0)
    refresh_live_campaigns(now=now)
    link = AdAudience.objects.get(campaign=campaign)
    results = sync_audiences(audiences=[link.audience])
    assert [r.platform for r in results] == ["meta"]
    assert not Destination.objects.filter(audience=link.audience, platform="pinterest").exists()


def test_dropping_a_platform_from_the_channels_empties_its_audience(meta: FakeMetaAudiences) -> None:
    now = timezone.now().replace(microsecond=0)
    audience = source_audience()
    crowd(audience, range(5), qualified_at=now - 2 * H)
    campaign = make_campaign(audience, channels=["meta", "email"], holdout_percent=0)
    refresh_live_campaigns(now=now)
    link = AdAudience.objects.select_related("audience").get(campaign=campaign)
    assert link.audience.size == 5
    Campaign.objects.filter(pk=campaign.pk).update(channels=["email"])
    refresh_live_campaigns(now=now)
    link.audience.refresh_from_db()
    assert link.audience.size == 0
    assert AudienceMember.objects.filter(audience=link.audience, left_at__isnull=False).count() == 5


def test_a_person_is_in_at_most_the_configured_number_of_campaigns_ad_audiences(meta: FakeMetaAudiences, settings: Any) -> None:
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "ADS_CAMPAIGNS_PER_PERSON": 1}
    now = timezone.now().replace(microsecond=0)
    audience = source_audience()
    crowd(audience, range(4), qualified_at=now - 2 * H)
    first = make_campaign(audience, channels=["meta"], holdout_percent=0)
    second = make_campaign(audience, channels=["meta"], holdout_percent=0)

    def members(campaign: Campaign) -> set[str]:
        link = AdAudience.objects.get(campaign=campaign)
        return set(AudienceMember.objects.filter(audience=link.audience, left_at__isnull=True).values_list("person", flat=True))

    refresh_live_campaigns(now=now)  # the first campaign (lower id) is refreshed first and keeps its people
    assert len(members(first)) == 4 and members(second) == set()
    refresh_live_campaigns(now=now)
    assert len(members(first)) == 4 and members(second) == set()  # stable: nobody moves back and forth
    Campaign.objects.filter(pk=first.pk).update(status=CampaignStatus.ENDED)
    refresh_live_campaigns(now=now)  # the first empties; the second takes them at its next refresh
    refresh_live_campaigns(now=now)
    assert members(first) == set() and len(members(second)) == 4


def test_the_limit_off_lets_a_person_into_every_campaign(meta: FakeMetaAudiences, settings: Any) -> None:
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "ADS_CAMPAIGNS_PER_PERSON": 0}
    now = timezone.now().replace(microsecond=0)
    audience = source_audience()
    crowd(audience, range(3), qualified_at=now - 2 * H)
    campaigns = [make_campaign(audience, channels=["meta"], holdout_percent=0) for _ in range(3)]
    refresh_live_campaigns(now=now)
    for campaign in campaigns:
        assert AdAudience.objects.get(campaign=campaign).audience.size == 3


def test_a_campaign_audience_is_never_rebuilt_by_the_audience_schedule(meta: FakeMetaAudiences) -> None:
    now = timezone.now().replace(microsecond=0)
    audience = source_audience()
    crowd(audience, range(3), qualified_at=now - 2 * H)
    campaign = make_campaign(audience, channels=["meta"], holdout_percent=0)
    refresh_live_campaigns(now=now)
    link = AdAudience.objects.select_related("audience").get(campaign=campaign)
    Audience.objects.filter(pk=link.audience_id).update(last_built_at=now - timedelta(days=30))
    assert link.audience.slug not in due_audiences()
    build = build_audience(link.audience)  # "build now" from the audiences admin: refused, members kept
    assert build.status == BuildStatus.FAILED and "kept by its campaign" in build.error
    assert AudienceMember.objects.filter(audience=link.audience, left_at__isnull=True).count() == 3


def test_the_periodic_tasks_fill_the_audience_and_a_purchase_removes_the_buyer(meta: FakeMetaAudiences) -> None:
    from socialshop.tasks import refresh_campaigns, sync_audiences as sync_task

    now = timezone.now().replace(microsecond=0)
    audience = source_audience()
    crowd(audience, range(110), qualified_at=now - 2 * H)
    campaign = make_campaign(audience, channels=["meta"], holdout_percent=0)
    assert campaign.slug in refresh_campaigns.apply().get()
    assert sync_task.apply().get()["status"] == "synced"
    dest = remote(campaign)
    assert meta.members(dest.remote_id) == {email_hash(n) for n in range(110)}
    event("Purchase", "v-7", at=timezone.now(), order_id="o-7")
    refresh_campaigns.apply().get()
    sync_task.apply().get()
    assert email_hash(7) not in meta.members(dest.remote_id) and removed_on(meta) == {email_hash(7)}


def test_a_deleted_campaigns_audience_is_emptied_and_its_people_removed(meta: FakeMetaAudiences) -> None:
    now = timezone.now().replace(microsecond=0)
    audience = source_audience()
    crowd(audience, range(105), qualified_at=now - 2 * H)
    campaign = make_campaign(audience, channels=["meta"], holdout_percent=0)
    refresh_live_campaigns(now=now)
    sync_audiences()
    dest = remote(campaign)
    assert len(meta.members(dest.remote_id)) == 105
    # Today a campaign with assigned people cannot be deleted (Assignment.variant protects the variants):
    # its assignments go first, as a purge by hand or a future cascade would do.
    Assignment.objects.filter(campaign=campaign).delete()
    campaign.delete()
    assert refresh_live_campaigns(now=now) == {dest.audience.slug: {"status": "emptied: its campaign was deleted"}}
    sync_audiences()
    assert meta.members(dest.remote_id) == set()
    assert refresh_live_campaigns(now=now) == {}  # emptied once


@pytest.fixture(scope="module")
def pinterest_server() -> Iterator[FakePinterestAudiences]:
    server = FakePinterestAudiences().start()
    yield server
    server.stop()


def test_each_platform_channel_gets_its_own_audience_on_its_own_platform(
        meta: FakeMetaAudiences, pinterest_server: FakePinterestAudiences, settings: Any) -> None:
    pinterest_server.reset()
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "PLATFORMS": {
        "meta": meta_settings(meta.url), "pinterest": pinterest_settings(pinterest_server.url)}}
    now = timezone.now().replace(microsecond=0)
    audience = source_audience()
    crowd(audience, range(120), qualified_at=now - 2 * H)
    campaign = make_campaign(audience, channels=["meta", "pinterest", "email"], holdout_percent=0)
    refresh_live_campaigns(now=now)
    results = sync_audiences()
    assert sorted((r.platform, r.state.split(",")[0]) for r in results) == [("meta", "120 sent"), ("pinterest", "120 sent")]
    list_id = remote(campaign, "pinterest").remote_id.split(":")[0]
    everyone = {email_hash(n) for n in range(120)}
    assert meta.members(remote(campaign).remote_id) == everyone
    assert everyone <= pinterest_server.lists[list_id]
    event("Purchase", "v-5", at=now + MIN, order_id="o-5")
    refresh_live_campaigns(now=now + 2 * MIN)
    sync_audiences()
    assert email_hash(5) not in meta.members(remote(campaign).remote_id)
    assert email_hash(5) not in pinterest_server.lists[list_id] and everyone - {email_hash(5)} <= pinterest_server.lists[list_id]
