"""The campaign landing link: reveal and apply the visitor's own code, then go to the store page.

Logic (who the visitor is, safe targets, the link's shape) is campaigns/landing.py.
"""
from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

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
