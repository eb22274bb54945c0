"""The image task on a real Celery worker: enqueued with run_task, processed out of process, safe to repeat."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage

from socialshop.core.jobs import run_task
from socialshop.posts.models import ImageState, Post
from socialshop.tasks import process_post_image
from tests.conftest import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_worker_processes_the_post_image_and_a_second_delivery_is_harmless(
    celery_worker_process: Any, make_post: Any, products: list, settings: Any,
) -> None:
    # The worker subprocess reads tests/settings.py's MEDIA_ROOT, not this test's own folder.
    settings.MEDIA_ROOT = str(Path(os.environ["SOCIALSHOP_TEST_TMP"]) / "media")
    post = make_post([(products[0], 0.4, 0.6)], process=False)
    run_task(process_post_image, post.pk)
    run_task(process_post_image, post.pk)  # a duplicate delivery
    wait_for(lambda: Post.objects.filter(pk=post.pk, image_state=ImageState.READY).first(),
             what=f"renditions from the worker; log: {celery_worker_process.log()[-2000:]}", timeout=60)
    # The receivers (posts/receivers.py) queued runs of their own when the post and its tag were saved:
    # wait until every queued run has finished, then a further run must change nothing.
    wait_for(lambda: celery_worker_process.log().count("succeeded") >= 2, what="both runs done", timeout=60)
    settled = _settled(celery_worker_process)
    post = Post.objects.get(pk=post.pk)
    assert post.image_state == ImageState.READY, settled
    from socialshop.posts.images import process_post_image as process_now

    process_now(post.pk)
    assert Post.objects.get(pk=post.pk).renditions == post.renditions
    _, names = default_storage.listdir(f"socialshop/posts/{post.pk}")
    assert len(names) == 1 + 2 * 4  # the master and 4 renditions x 2 formats, nothing twice
    assert set(post.renditions) == {"thumbnail", "square", "portrait", "story"}
    assert "process_post_image" in celery_worker_process.log()


def _settled(worker: Any, *, quiet: float = 2.0, timeout: float = 60.0) -> int:
    """Wait until the worker has logged no new finished task for ``quiet`` seconds; returns how many finished."""
    import time

    deadline = time.monotonic() + timeout
    count, since = worker.log().count("succeeded"), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.2)
        now = worker.log().count("succeeded")
        if now != count:
            count, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return count
    return count
