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
