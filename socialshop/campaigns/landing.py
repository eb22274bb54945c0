"""The campaign's landing link ``/socialshop/c/<slug>/``: who the visitor is, their code, where to go next.

The view is campaigns/views.py; ``landing_url`` builds the link channels put in emails and ads.
"""
from __future__ import annotations

from urllib.parse import urlencode, urlsplit, urlunsplit, parse_qsl

from django.core import signing
from django.http import HttpRequest
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from socialshop.audiences.models import VisitorLink
from socialshop.campaigns.models import Assignment, Campaign
from socialshop.privacy.consent import consent_from_request, visitor_id_from_request

PERSON_SALT = "socialshop.campaigns.landing"
PERSON_PARAM, NEXT_PARAM, CHANNEL_PARAM = "p", "next", "ch"


def landing_url(campaign: Campaign, *, person: str = "", next_path: str = "/", channel: str = "") -> str:
    """The path of ``campaign``'s landing link; ``person`` (signed, not readable) lets an email's link
    reveal that person's code on any device, ``next_path`` is the store page to land on."""
    query = {NEXT_PARAM: next_path}
    if person:
        query[PERSON_PARAM] = signing.dumps(person, salt=PERSON_SALT, compress=True)
    if channel:
        query[CHANNEL_PARAM] = channel
    return f"{reverse('socialshop:campaign-landing', args=[campaign.slug])}?{urlencode(query)}"


def persons_of(request: HttpRequest) -> list[str]:
    """The person keys the visitor may be known by: the signed ``p`` of an email link, the signed-in
    account, and (when consent allows a visitor id) the visitor's customer link and the visitor itself."""
    persons: list[str] = []
    token = request.GET.get(PERSON_PARAM, "")
    if token:
        try:
            persons.append(str(signing.loads(token, salt=PERSON_SALT)))
        except signing.BadSignature:
            pass  # a mangled or forged link still lands; it just reveals nothing
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        persons.append(f"u:{user.pk}")
    if consent_from_request(request).may_identify:
        visitor = visitor_id_from_request(request)
        if visitor:
            link = VisitorLink.objects.filter(visitor_id=visitor).values_list("person", flat=True).first()
            persons += [p for p in (link, f"v:{visitor}") if p]
    return list(dict.fromkeys(persons))


def assignment_of(campaign: Campaign, persons: list[str]) -> Assignment | None:
    """The visitor's assignment in ``campaign`` under the first of their keys that has one."""
    found = {a.person: a for a in Assignment.objects.filter(campaign=campaign, person__in=persons).select_related("variant")}
    return next((found[p] for p in persons if p in found), None)


def safe_target(request: HttpRequest, campaign: Campaign) -> str:
    """Where to send the visitor: ``next`` when it is a page of this store (else "/"), tagged with the
    campaign's utm parameters so the landing counts (caps, results)."""
    target = request.GET.get(NEXT_PARAM, "") or "/"
    allowed = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure())
    if not allowed or not target.startswith("/") or target.startswith(("//", "/\\")):
        target = "/"
    parts = urlsplit(target)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not k.startswith("utm_")]
    channel = request.GET.get(CHANNEL_PARAM, "")[:20] or "campaign"
    query += [("utm_source", "socialshop"), ("utm_medium", channel), ("utm_campaign", campaign.slug)]
    return urlunsplit(("", "", parts.path, urlencode(query), parts.fragment))
