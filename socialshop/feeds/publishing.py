"""Putting a built file live: storage names, the publish guard, the atomic switch, old-file cleanup.

Files go through Django's storage API (``storages[SOCIALSHOP['FEED_STORAGE']]``). Each build writes
its own never-served name; publishing is one UPDATE of ``Feed.published_build``, so the URL always
serves a complete file and a failed or refused build leaves the live one alone.
"""
from __future__ import annotations

import logging
import secrets
from typing import IO

from django.core.files import File
from django.core.files.storage import Storage, storages

from socialshop.conf import app_settings
from socialshop.core.db import writing
from socialshop.feeds.models import BuildStatus, Feed, FeedBuild

logger = logging.getLogger(__name__)
HISTORY_KEPT = 200  # build records kept per feed for the admin's history


def feed_storage() -> Storage:
    """The storage feed files are written to (``SOCIALSHOP['FEED_STORAGE']``)."""
    return storages[app_settings.FEED_STORAGE]


def save_build_file(feed: Feed, build: FeedBuild, *, content: IO[bytes]) -> str:
    """Copy the finished temporary file into storage under a fresh name; returns the stored name.

    Raises whatever the storage raises (the caller records the build as failed).
    """
    name = f"socialshop/feeds/{feed.slug}/{build.pk}-{secrets.token_hex(8)}.{feed.file_format}"
    content.seek(0)
    storage = feed_storage()
    try:
        return storage.save(name, File(content, name=name))
    except Exception:
        _delete_quietly(storage, name)  # a half-written copy under a name nothing points to
        raise


def guard_refusal(feed: Feed, written: int, *, force: bool = False, allow_empty: bool = False) -> str:
    """Why the publish guard refuses a build with ``written`` items ('' when it may go live).

    ``force`` overrides the shrink check only: an empty build goes live only with ``allow_empty``,
    because an empty feed deletes every product on the platform.
    """
    if written == 0:
        if allow_empty:
            return ""
        return ("refused: the build has no items, so the live feed was kept (an empty feed deletes every product "
                "on the platform; to publish it anyway, build with --allow-empty)")
    if force:
        return ""
    live = feed.published_build
    ratio = float(app_settings.FEED_PUBLISH_MIN_RATIO)
    if live is not None and live.items_written and written < ratio * live.items_written:
        return (f"refused: {written} items is under {ratio:.0%} of the live build's {live.items_written}; "
                "the live feed was kept (check the catalogue, or build with --force)")
    return ""


def publish(feed: Feed, build: FeedBuild, *, force: bool = False, allow_empty: bool = False) -> FeedBuild:
    """Switch the feed's URL to ``build`` unless the guard refuses or nothing changed; saves ``build``."""
    storage = feed_storage()
    feed.refresh_from_db(fields=["published_build"])
    live = feed.published_build
    refusal = guard_refusal(feed, build.items_written, force=force, allow_empty=allow_empty)
    if refusal:
        build.status = BuildStatus.REFUSED
        build.message = refusal
        _delete_quietly(storage, build.file_name)
        build.file_name = ""
        build.save()
        logger.warning("feed %s: %s", feed.slug, refusal)
        return build
    if live is not None and live.content_hash == build.content_hash and live.file_name and storage.exists(live.file_name):
        build.status = BuildStatus.UNCHANGED
        build.message = f"same content as build {live.pk}; the live file (and its Last-Modified) was kept"
        _delete_quietly(storage, build.file_name)
        build.file_name = ""
        build.save()
        return build
    with writing():
        build.status = BuildStatus.PUBLISHED
        build.save()
        Feed.objects.filter(pk=feed.pk).update(published_build=build)
    feed.published_build = build
    prune_old_files(feed, keep_pks={build.pk, *([live.pk] if live is not None else [])})
    return build


def prune_old_files(feed: Feed, *, keep_pks: set[int]) -> int:
    """Delete files of this feed's builds other than ``keep_pks``; returns how many were removed."""
    storage = feed_storage()
    removed = 0
    old = FeedBuild.objects.filter(feed=feed).exclude(file_name="").exclude(pk__in=keep_pks)
    for build in old.only("pk", "file_name"):
        _delete_quietly(storage, build.file_name)
        FeedBuild.objects.filter(pk=build.pk).update(file_name="")
        removed += 1
    return removed


def prune_history(feed: Feed, *, keep: int = HISTORY_KEPT) -> int:
    """Delete build records beyond the newest ``keep`` (never the live one); returns how many."""
    cutoff = list(FeedBuild.objects.filter(feed=feed).order_by("-started_at", "-pk").values_list("pk", flat=True)[keep:keep + 1000])
    if not cutoff:
        return 0
    old = FeedBuild.objects.filter(pk__in=cutoff, file_name="").exclude(pk=feed.published_build_id or 0)
    return old.delete()[0]


def delete_file_quietly(name: str) -> None:
    """Delete a feed file from the feed storage, logging (not raising) a failure."""
    _delete_quietly(feed_storage(), name)


def _delete_quietly(storage: Storage, name: str) -> None:
    if not name:
        return
    try:
        storage.delete(name)
    except Exception:  # noqa: BLE001 - cleanup must never turn a result into an error
        logger.warning("could not delete old feed file %s", name, exc_info=True)
