""""Why this ad" for one visitor: the audiences they are in now, the action of theirs that put them there
in plain words, the running campaigns that reach them and on which channels; and the opt-out of all
retargeting (email suppressions on every key of theirs). Read in a constant number of queries.

The page is privacy/views.py; consent itself (cookie, ``ConsentRecord``) is privacy/consent.py.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from socialshop.audiences.models import AudienceMember, RuleKind, VisitorLink
from socialshop.audiences.rules import ENGAGEMENT_ACTIONS
from socialshop.campaigns.models import EMAIL, CampaignMember, CampaignStatus, MemberState, Suppression
from socialshop.catalog import get_catalog
from socialshop.core.jobs import PERIODIC_JOBS
from socialshop.exceptions import SocialshopError
from socialshop.platforms import REGISTRY
from socialshop.tracking.models import Event

SYNC_TASK = "socialshop.sync_audiences"
OPT_OUT_REASON = "opted out of retargeting on the privacy page"
# The actions each rule kind qualifies on (audiences/rules.py); None: any event (all visitors).
KIND_ACTIONS: dict[str, tuple[str, ...] | None] = {
    RuleKind.VISITORS: None,
    RuleKind.VIEWERS: ("ViewContent",),
    RuleKind.CART_ABANDONERS: ("AddToCart",),
    RuleKind.CHECKOUT_ABANDONERS: ("InitiateCheckout",),
    RuleKind.POST_ENGAGERS: (*ENGAGEMENT_ACTIONS, "PostView"),
    RuleKind.PURCHASERS: ("Purchase",),
    RuleKind.LOOKALIKE_SEED: ("Purchase",),
}
# What the visitor did, in their words; "{what}" becomes the products of the event.
SENTENCES: dict[str, str] = {
    "AddToCart": "You added {what} to your cart",
    "InitiateCheckout": "You started checking out {what}",
    "ViewContent": "You looked at {what}",
    "Purchase": "You bought {what}",
    "AddToWishlist": "You added {what} to your wishlist",
    "Search": "You searched the store",
    "PostView": "You saw one of the store's shoppable posts",
    "PostClick": "You clicked a product on one of the store's shoppable posts",
    "PostCloseup": "You looked closely at one of the store's shoppable posts",
    "PostSave": "You saved one of the store's shoppable posts",
    "PostLike": "You liked one of the store's shoppable posts",
    "PostShare": "You shared one of the store's shoppable posts",
    "PostComment": "You commented on one of the store's shoppable posts",
}
# What follows the sentence for kinds whose rule also looks at what did not happen.
AFTERWORDS: dict[str, str] = {
    RuleKind.CART_ABANDONERS: " and have not bought since",
    RuleKind.CHECKOUT_ABANDONERS: " and have not bought since",
    RuleKind.LOOKALIKE_SEED: " (the store looks for people like its best customers)",
}


@dataclass(frozen=True, slots=True)
class PersonKeys:
    """The person keys a visitor may see and act on; ``hidden_account``: their browser is linked to an
    account that is not signed in here, whose activity (possibly from other devices) is not shown."""

    keys: tuple[str, ...]
    hidden_account: bool = False


@dataclass(frozen=True, slots=True)
class AudienceReason:
    """One audience the visitor is in now and the action that put them there."""

    audience: str
    reason: str
    at: datetime | None
    rebuild_every_minutes: int


@dataclass(frozen=True, slots=True)
class CampaignReach:
    """A running campaign that reaches (or, after its delay, will reach) the visitor, and on which channels."""

    campaign: str
    channels: tuple[str, ...]
    email_stopped: bool
    from_time: datetime | None


@dataclass(frozen=True, slots=True)
class WhyReport:
    """Everything the privacy page says about one visitor."""

    keys: PersonKeys
    audiences: tuple[AudienceReason, ...]
    campaigns: tuple[CampaignReach, ...]
    email_suppressed: bool
    sync_every_minutes: int
    rebuild_every_minutes: int

    @property
    def holds_anything(self) -> bool:
        return bool(self.keys.keys)


def person_keys(visitor_id: str, user_id: int | None) -> PersonKeys:
    """The keys of this browser's visitor (``v:``, its customer link) and of the signed-in account (``u:``).

    A link to an account (``u:``) counts only when that account is the one signed in: on a shared
    computer, the next person holding the cookie does not see the account's activity. One query.
    """
    keys: list[str] = []
    hidden = False
    if visitor_id:
        keys.append(f"v:{visitor_id}")
        link = VisitorLink.objects.filter(visitor_id=visitor_id).values_list("person", flat=True).first()
        if link and link.startswith("u:") and link != f"u:{user_id}":
            hidden = True
        elif link:
            keys.append(link)
    if user_id is not None and f"u:{user_id}" not in keys:
        keys.append(f"u:{user_id}")
    return PersonKeys(tuple(keys), hidden)


def sync_every_minutes() -> int:
    """How often the scheduled upload to the ad platforms runs (``core/jobs.py`` PERIODIC_JOBS)."""
    every = next((job.every for job in PERIODIC_JOBS if job.task == SYNC_TASK), 900.0)
    return max(1, round(every / 60))


def _day(at: datetime, now: datetime) -> str:
    local = timezone.localtime(at)
    text = f"{local.day} {local:%B}"
    return text if local.year == timezone.localtime(now).year else f"{text} {local.year}"


def _products(ids: Sequence[str], titles: dict[str, str]) -> str:
    names: list[str] = []
    for pid in ids:
        title = titles.get(str(pid))
        if title and title not in names:
            names.append(title)
    if not names:
        return "a product" if len(ids) <= 1 else "some products"
    if len(names) == 1:
        return names[0]
    if len(names) == 2:
        return f"{names[0]} and {names[1]}"
    return f"{names[0]}, {names[1]} and {len(names) - 2} more"


def _titles(ids: set[str]) -> dict[str, str]:
    """Catalog titles for the product ids (one catalog lookup); none when the catalog cannot be read."""
    if not ids:
        return {}
    try:
        records = get_catalog().get_records(sorted(ids))
    except SocialshopError:
        return {}
    return {pid: record.title for pid, record in records.items()}


def why_report(visitor_id: str, user_id: int | None, *, now: datetime | None = None) -> WhyReport:
    """The visitor's audiences with the qualifying action, and the campaigns reaching them.

    Only this browser's own events (its visitor id) and the signed-in account's are read to explain
    an action; a membership whose action happened elsewhere gets the rule's plain reason. A constant
    number of queries whatever the history: the link, the memberships, the qualifying events, the
    catalog titles, the campaign members and the suppressions.
    """
    now = now or timezone.now()
    keys = person_keys(visitor_id, user_id)
    if not keys.keys:
        return WhyReport(keys, (), (), False, sync_every_minutes(), 0)
    # A campaign's own ad audiences are told as the campaigns that reach the person, not as audiences.
    members = list(AudienceMember.objects.filter(person__in=keys.keys, left_at__isnull=True)
                   .exclude(audience__kind=RuleKind.CAMPAIGN)
                   .select_related("audience").order_by("audience__name", "pk"))
    times = {m.qualified_at for m in members if m.qualified_at is not None}
    own = Q(visitor_id=visitor_id) if visitor_id else Q(pk__in=[])
    if user_id is not None:
        own |= Q(user_id=user_id)
    events = list(Event.objects.filter(own, occurred_at__in=times).exclude(visitor_id="", user_id__isnull=True)
                  .order_by("pk").values_list("name", "occurred_at", "content_ids")) if times else []
    titles = _titles({str(pid) for _, _, ids in events for pid in (ids or []) if isinstance(pid, (str, int))})
    reasons: list[AudienceReason] = []
    seen: set[int] = set()
    for member in members:
        if member.audience_id in seen:
            continue  # in the same audience under two keys: one line
        seen.add(member.audience_id)
        reasons.append(AudienceReason(member.audience.name, _reason(member, events, titles, now=now), member.qualified_at,
                                      member.audience.rebuild_every_minutes))
    suppressed = Suppression.objects.filter(person__in=keys.keys, channel=EMAIL).exists()
    return WhyReport(keys, tuple(reasons), _reach(keys.keys, suppressed=suppressed, now=now), suppressed,
                     sync_every_minutes(), max((r.rebuild_every_minutes for r in reasons), default=0))


def _reason(member: AudienceMember, events: list[tuple[str, datetime, list]], titles: dict[str, str], *, now: datetime) -> str:
    kind = member.audience.kind
    if kind == RuleKind.CUSTOMER_LIST:
        return "The store uploaded a customer list that includes you."
    names = KIND_ACTIONS.get(kind, ())
    match = next((e for e in events if e[1] == member.qualified_at and (names is None or e[0] in names)), None)
    when = f" on {_day(member.qualified_at, now)}" if member.qualified_at else ""
    if match is None:
        plain = member.reason or "your activity on this store"
        return f"Because of your activity: {plain}{when}."
    name, _, ids = match
    template = SENTENCES.get(name, "You visited the store")
    sentence = template.format(what=_products([str(i) for i in ids or []], titles))
    return f"{sentence}{when}{AFTERWORDS.get(kind, '')}."


def _reach(keys: Sequence[str], *, suppressed: bool, now: datetime) -> tuple[CampaignReach, ...]:
    """Running campaigns where one of ``keys`` is a member, not held out, waiting or targeted (one query)."""
    rows = (CampaignMember.objects.filter(person__in=keys, holdout=False, state__in=[MemberState.WAITING, MemberState.TARGETED])
            .select_related("campaign").order_by("campaign__name", "pk"))
    out: dict[int, CampaignReach] = {}
    for row in rows:
        campaign = row.campaign
        if campaign.pk in out or campaign.effective_status(now) != CampaignStatus.RUNNING:
            continue
        channels = tuple("email" if c == EMAIL else (REGISTRY[c].name if c in REGISTRY else c) for c in campaign.channels or [])
        start = None
        if row.state == MemberState.WAITING and row.qualified_at is not None:
            start = row.qualified_at + timedelta(minutes=campaign.min_delay_minutes)
        out[campaign.pk] = CampaignReach(campaign.name, channels, suppressed and EMAIL in (campaign.channels or []), start)
    return tuple(out.values())


def suppress_email(keys: Sequence[str], *, reason: str = OPT_OUT_REASON) -> int:
    """Stop every campaign email to these person keys (idempotent); returns how many keys were new."""
    before = Suppression.objects.filter(person__in=keys, channel=EMAIL).count()
    Suppression.objects.bulk_create([Suppression(person=k, channel=EMAIL, reason=reason[:200]) for k in keys],
                                    ignore_conflicts=True)
    return Suppression.objects.filter(person__in=keys, channel=EMAIL).count() - before
