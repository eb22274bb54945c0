"""Every socialshop Celery task: thin wrappers, one domain call each, with the defaults in core/jobs.py."""
from __future__ import annotations

from celery import shared_task

from socialshop.core.heartbeat import record_heartbeat as _record_heartbeat
from socialshop.core.jobs import TASK_DEFAULTS


@shared_task(name="socialshop.record_heartbeat", **TASK_DEFAULTS)
def record_heartbeat(name: str = "worker") -> str:
    """Record that a worker ran a task now (admin shows it as worker health)."""
    return _record_heartbeat(name)


@shared_task(name="socialshop.process_post_image", **TASK_DEFAULTS)
def process_post_image(post_id: int) -> dict:
    """Clean a shoppable post's image and cut its renditions (idempotent; see posts/images.py)."""
    from socialshop.posts.images import process_post_image as _process_post_image

    return _process_post_image(int(post_id))


@shared_task(name="socialshop.purge_events", **TASK_DEFAULTS)
def purge_events(max_batches: int = 200) -> int:
    """Delete events past EVENT_RETENTION_DAYS in bounded batches (tracking/retention.py); single-flight."""
    from socialshop.exceptions import JobLocked
    from socialshop.tracking.retention import purge_old_events

    try:
        return purge_old_events(max_batches=int(max_batches)).deleted
    except JobLocked:
        return 0


@shared_task(name="socialshop.update_interest", **TASK_DEFAULTS)
def update_interest() -> int:
    """Fold newly received events into the per-visitor interest table (tracking/interest.py); single-flight."""
    from socialshop.exceptions import JobLocked
    from socialshop.tracking.interest import update_interest as _update_interest

    try:
        return _update_interest().rows
    except JobLocked:
        return 0


@shared_task(name="socialshop.create_deliveries", **TASK_DEFAULTS)
def create_deliveries() -> dict:
    """Make the outbox rows for newly stored shareable events (tracking/outbox.py); single-flight."""
    from socialshop.core.jobs import single_flight
    from socialshop.exceptions import JobLocked
    from socialshop.tracking.outbox import create_deliveries as _create_deliveries

    try:
        with single_flight("socialshop.create_deliveries", seconds=600):
            result = _create_deliveries()
    except JobLocked:
        return {}
    return {"pending": result.pending, "skipped": result.skipped}


@shared_task(name="socialshop.forward_events", **TASK_DEFAULTS)
def forward_events(platform: str | None = None) -> dict:
    """Send due outbox deliveries to the platforms (tracking/forwarding.py). Concurrent runs are safe:
    each claims its own rows."""
    from socialshop.tracking.forwarding import forward_events as _forward_events

    results = _forward_events(platform=platform)
    return {slug: {"sent": r.sent, "failed": r.failed, "skipped": r.skipped, "retried": r.retried,
                   "stopped": r.stopped} for slug, r in results.items()}


@shared_task(name="socialshop.send_test_event", **TASK_DEFAULTS)
def send_test_event(platform: str) -> dict:
    """Send one test event to ``platform`` and return its answer (platforms/status.py)."""
    from socialshop.platforms.status import send_test_event as _send_test_event

    result = _send_test_event(platform)
    return {"platform": result.platform, "status": result.status, "response": result.response}


@shared_task(name="socialshop.build_feed", **TASK_DEFAULTS)
def build_feed(slug: str, force: bool = False, allow_empty: bool = False) -> dict:
    """Build one feed and publish it unless the guard refuses (feeds/schedule.py); single-flight per feed."""
    from socialshop.feeds.schedule import build_by_slug

    return build_by_slug(str(slug), force=bool(force), allow_empty=bool(allow_empty))


@shared_task(name="socialshop.build_due_feeds", **TASK_DEFAULTS)
def build_due_feeds() -> list[str]:
    """Enqueue a ``socialshop.build_feed`` for every enabled feed that is due (feeds/schedule.py)."""
    from socialshop.core.jobs import run_task
    from socialshop.feeds.schedule import due_feeds

    slugs = due_feeds()
    for slug in slugs:
        run_task(build_feed, slug)
    return slugs


@shared_task(name="socialshop.build_audience", **TASK_DEFAULTS)
def build_audience(slug: str) -> dict:
    """Rebuild one audience's membership (audiences/builder.py); single-flight per audience."""
    from socialshop.audiences.models import Audience
    from socialshop.audiences.schedule import build_by_slug

    try:
        return build_by_slug(str(slug))
    except Audience.DoesNotExist:
        return {"slug": str(slug), "status": "missing"}


@shared_task(name="socialshop.build_due_audiences", **TASK_DEFAULTS)
def build_due_audiences() -> list[str]:
    """Enqueue a ``socialshop.build_audience`` for every enabled audience that is due (audiences/schedule.py)."""
    from socialshop.audiences.schedule import due_audiences
    from socialshop.core.jobs import run_task

    slugs = due_audiences()
    for slug in slugs:
        run_task(build_audience, slug)
    return slugs


@shared_task(name="socialshop.sync_audiences", **TASK_DEFAULTS)
def sync_audiences(platform: str | None = None, audience: str | None = None) -> dict:
    """Upload each enabled audience's changes (or only ``audience``, a slug) to each platform with audience
    uploads on (or only ``platform``) (audiences/sync.py); one sync at a time."""
    from socialshop.audiences.models import Audience
    from socialshop.audiences.sync import sync_audiences as _sync_audiences
    from socialshop.core.jobs import single_flight
    from socialshop.exceptions import JobLocked

    chosen = list(Audience.objects.filter(slug=str(audience))) if audience else None
    if audience and not chosen:
        return {"status": "missing", "audience": str(audience)}
    try:
        with single_flight("socialshop.sync_audiences"):
            results = _sync_audiences(platform=platform, audiences=chosen)
    except JobLocked:
        return {"status": "already running"}
    return {"status": "synced", "results": [
        {"platform": r.platform, "state": r.state, "adds": r.queued_adds, "removes": r.queued_removes} for r in results]}


@shared_task(name="socialshop.refresh_campaigns", **TASK_DEFAULTS)
def refresh_campaigns(slug: str | None = None) -> dict:
    """Refresh the targeting of every live campaign, or of the one named (campaigns/targeting.py)."""
    from socialshop.campaigns.targeting import refresh_live_campaigns

    return refresh_live_campaigns(slug)


@shared_task(name="socialshop.pull_campaign_reports", **TASK_DEFAULTS)
def pull_campaign_reports(slug: str | None = None) -> dict:
    """Pull the platforms' daily impressions, clicks and spend of live campaigns (campaigns/reports.py)."""
    from socialshop.campaigns.reports import pull_campaign_reports as _pull
    from socialshop.exceptions import JobLocked

    try:
        return _pull(slug=slug)
    except JobLocked:
        return {"status": "already running"}
@shared_task(name="socialshop.render_ads", **TASK_DEFAULTS)
def render_ads(slug: str) -> dict:
    """Render one campaign's ad creatives into storage (campaigns/creatives/builder.py); single-flight per campaign."""
    from socialshop.campaigns.creatives.builder import render_by_slug
    from socialshop.exceptions import JobLocked

    try:
        return render_by_slug(str(slug))
    except JobLocked:
        return {"slug": str(slug), "status": "already running"}
@shared_task(name="socialshop.send_cart_reminders", **TASK_DEFAULTS)
def send_cart_reminders() -> dict:
    """Send the abandoned-cart emails due now (campaigns/email.py); two runs at once send each email once."""
    from socialshop.campaigns.email import send_cart_reminders as _send_cart_reminders

    run = _send_cart_reminders()
    return {"sent": run.sent, "failed": run.failed, "skipped": run.skipped, "stopped": list(run.stopped), "message": run.message}
