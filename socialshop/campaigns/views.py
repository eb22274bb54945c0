"""The campaign landing link (reveal and apply the visitor's own code, then go to the store page) and the
unsubscribe page of the campaign emails (tokens and suppression: campaigns/unsubscribe.py).

Logic (who the visitor is, safe targets, the link's shape) is campaigns/landing.py.
"""
from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from socialshop.campaigns.incentives import issue_code, load_adapter
from socialshop.campaigns.landing import assignment_of, persons_of, safe_target
from socialshop.campaigns.models import Campaign, CampaignStatus
from socialshop.exceptions import ConfigurationError

logger = logging.getLogger(__name__)


@never_cache
@require_GET
def landing(request: HttpRequest, slug: str) -> HttpResponseRedirect:
    """``GET /socialshop/c/<slug>/?next=/p/...``: a running campaign's member assigned a variant with an
    incentive gets their code issued (once) and applied to the session; everyone is redirected to
    ``next`` when it is a page of this store, else to "/". Unknown campaigns are 404."""
    campaign = get_object_or_404(Campaign, slug=slug)
    if campaign.effective_status() == CampaignStatus.RUNNING and campaign.has_incentive:
        assignment = assignment_of(campaign, persons_of(request))
        if assignment is not None and assignment.variant is not None:
            try:
                adapter = load_adapter()
                issued = issue_code(campaign, person=assignment.person, variant=assignment.variant) if adapter else None
            except ConfigurationError:
                logger.exception("campaign %s: no code revealed", campaign.slug)
                issued = adapter = None
            if issued is not None and adapter is not None and issued.redeemed_at is None and issued.expires_at > timezone.now():
                adapter.apply_to_session(request, issued.code)
    return HttpResponseRedirect(safe_target(request, campaign))


def _masked(person: str) -> str:
    """The recipient's address as the store has it now, masked ("a***@example.com"); "" when unknown."""
    from socialshop.campaigns.contacts import load_contact_adapter

    try:
        adapter = load_contact_adapter()
        contact = adapter.contacts([person]).get(person) if adapter else None
    except Exception:  # the host's code; the page works without the address
        logger.exception("unsubscribe page: the contact adapter failed")
        return ""
    if contact is None or "@" not in contact.email:
        return ""
    local, _, domain = contact.email.partition("@")
    return f"{local[:1]}***@{domain}"


# The mail provider's one-click POST (RFC 8058) carries only "List-Unsubscribe=One-Click" and no CSRF
# token or cookie; the signed token in the URL is what authorises it, so CSRF protection adds nothing here.
@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe_page(request: HttpRequest, token: str) -> HttpResponse:
    """``/socialshop/unsubscribe/<token>/``: GET shows what the link unsubscribes from and a button (and never
    unsubscribes: link scanners fetch it); POST, from the button or a mail provider's one-click, unsubscribes
    at once. A damaged or forged token is a 400 page."""
    from socialshop.campaigns.unsubscribe import BadToken, is_unsubscribed, read_token, unsubscribe

    try:
        recipient = read_token(token)
    except BadToken as exc:
        return render(request, "socialshop/unsubscribe/invalid.html", {"reason": str(exc)}, status=400)
    context = {"campaign": recipient.campaign}
    if request.method == "POST":
        one_click = request.POST.get("List-Unsubscribe") == "One-Click"
        created = unsubscribe(recipient, how="one-click" if one_click else "unsubscribe page")
        context["state"] = "done" if created else "already"
    else:
        context["state"] = "already" if is_unsubscribed(recipient.person) else "ask"
        context["address"] = _masked(recipient.person)
    return render(request, "socialshop/unsubscribe/page.html", context)


@never_cache
@require_GET
def email_open(request: HttpRequest, token: str) -> HttpResponse:
    """``GET /socialshop/e/o/<token>.gif``: always a 1x1 GIF; the first load of a genuine token records
    the email's ``opened_at`` (later loads, and anything forged, change nothing)."""
    from socialshop.campaigns.messages import read_open_token
    from socialshop.campaigns.models import EmailSend
    from socialshop.tracking.views import GIF

    send_id = read_open_token(token)
    if send_id is not None:
        EmailSend.objects.filter(pk=send_id, opened_at__isnull=True).update(opened_at=timezone.now())
    return HttpResponse(GIF, content_type="image/gif")
