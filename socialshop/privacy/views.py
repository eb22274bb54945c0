"""Privacy endpoints: the privacy page (what is collected, why, "why this ad", consent change, opt-out),
the opt-out of all retargeting and the consent API the tag and banner post to.

Consent logic is ``privacy/consent.py``; what a visitor is shown about their audiences and campaigns,
and the email suppressions of an opt-out, is ``campaigns/transparency.py`` (this edge module joins them).
"""
from __future__ import annotations

import json

from django.db.models import Max
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods

from socialshop.audiences.models import Audience
from socialshop.campaigns.transparency import person_keys, suppress_email, sync_every_minutes, why_report
from socialshop.conf import app_settings
from socialshop.platforms import REGISTRY
from socialshop.privacy.consent import (
    ConsentState, consent_from_request, new_id, record_consent, set_consent, visitor_id_from_request,
)
from socialshop.privacy.models import ConsentRecord
from socialshop.privacy.erasure import erase_visitors
from socialshop.tracking.collector import origin_allowed
from socialshop.tracking.store import unshare_visitor


def _user_id(request: HttpRequest) -> int | None:
    user = getattr(request, "user", None)
    return user.pk if user is not None and user.is_authenticated else None


def _apply(request: HttpRequest, response: HttpResponse, *, analytics: bool, ads: bool, opted_out: bool) -> ConsentState:
    # The keys are read before set_consent: an opt-out deletes the visitor cookie.
    keys = person_keys(visitor_id_from_request(request), _user_id(request)).keys if opted_out else ()
    state, visitor_id = set_consent(request, response, analytics=analytics, ads=ads, opted_out=opted_out)
    if not state.may_share:
        unshare_visitor(visitor_id)
    if opted_out:
        user_id = _user_id(request)
        if not visitor_id and user_id is not None and not ConsentRecord.objects.filter(user_id=user_id, opted_out=True).exists():
            # A signed-in customer without a visitor cookie: the opt-out is recorded for the account
            # (audiences and campaigns leave out every ConsentRecord user that opted out).
            record_consent(new_id(), state, user_id=user_id)
        suppress_email(keys)
    return state


def _flag(value: object) -> bool:
    return value is True or value in ("1", "true", "on", "yes")


@csrf_exempt  # an origin check stands in for the CSRF token, so the banner sets no CSRF cookie
@require_http_methods(["GET", "POST"])
def privacy_page(request: HttpRequest) -> HttpResponse:
    """GET: the privacy page. POST (form): store the choice and go back to ``next``; ``choice=erase``
    rejects all and erases everything held under the visitor cookie (privacy/erasure.py)."""
    if request.method == "POST":
        if not origin_allowed(request):
            return HttpResponse("Cross-site consent changes are not allowed.", status=403, content_type="text/plain")
        choice = request.POST.get("choice", "")
        analytics = ads = False
        if choice == "accept":
            analytics = ads = True
        elif choice == "choose":
            analytics, ads = _flag(request.POST.get("analytics")), _flag(request.POST.get("ads"))
        target = request.POST.get("next") or reverse("socialshop:privacy")
        if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
            target = reverse("socialshop:privacy")
        response = HttpResponseRedirect(target)
        _apply(request, response, analytics=analytics, ads=ads, opted_out=choice == "optout")
        if choice == "erase":
            # After the choice (a rejection, which deletes the id cookies): the consent record it wrote goes too.
            visitor_id = visitor_id_from_request(request)
            if visitor_id:
                erase_visitors([visitor_id])
        return response
    consent = consent_from_request(request)
    context = {
        "consent": consent,
        "why": why_report(visitor_id_from_request(request), _user_id(request)),
        "opted_out_now": request.GET.get("opted-out") == "1" and consent.opted_out,
        "sync_every_minutes": sync_every_minutes(),
        "rebuild_every_minutes": _longest_rebuild() if consent.opted_out else 0,
        "consent_required": app_settings.CONSENT_REQUIRED,
        "retention_days": app_settings.EVENT_RETENTION_DAYS,
        "ip_handling": app_settings.IP_HANDLING,
        # partner names as they write them ("Meta", "TikTok"), not our setting keys
        "platforms": sorted(REGISTRY[slug].name if slug in REGISTRY else slug for slug in (app_settings.PLATFORMS or {})),
    }
    response = render(request, "socialshop/privacy.html", context)
    response["Cache-Control"] = "no-store"
    return response


def _longest_rebuild() -> int:
    """The longest scheduled rebuild interval of the enabled audiences (minutes), 0 without any."""
    return Audience.objects.filter(enabled=True).aggregate(m=Max("rebuild_every_minutes"))["m"] or 0


@csrf_protect  # even where the host's middleware lacks CsrfViewMiddleware
@require_http_methods(["POST"])
def opt_out(request: HttpRequest) -> HttpResponse:
    """POST (CSRF token): opt this browser and the signed-in account out of all retargeting.

    Consent becomes "opted out" (no tracking, events unshared, so audiences and their uploads drop
    the person), and every person key of theirs gets an email suppression. Idempotent; any form
    fields besides the token are ignored. Redirects to the privacy page, which confirms.
    """
    response = HttpResponseRedirect(reverse("socialshop:privacy") + "?opted-out=1")
    _apply(request, response, analytics=False, ads=False, opted_out=True)
    response["Cache-Control"] = "no-store"
    return response


@csrf_exempt  # see privacy_page
@require_http_methods(["POST"])
def consent_api(request: HttpRequest) -> JsonResponse:
    """POST JSON ``{analytics: bool, ads: bool, opted_out?: bool}``; answers the new state."""
    if not origin_allowed(request):
        return JsonResponse({"error": "cross-site consent changes are not allowed"}, status=403)
    try:
        body = json.loads(request.read(4096).decode("utf-8"))
        if not isinstance(body, dict):
            raise ValueError("not an object")
    except (ValueError, RecursionError):
        return JsonResponse({"error": 'send {"analytics": true|false, "ads": true|false}'}, status=400)
    response = JsonResponse({})
    state = _apply(request, response, analytics=body.get("analytics") is True, ads=body.get("ads") is True,
                   opted_out=body.get("opted_out") is True)
    response.content = json.dumps(state.as_json()).encode()
    response["Cache-Control"] = "no-store"
    return response
