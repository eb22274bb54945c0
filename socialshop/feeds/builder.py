"""Building a feed: read the catalogue in keyset-paginated chunks, map and check each record, stream
the file, then hand it to ``feeds/publishing.py``. Also the eligibility dry run (no file written).

Entry points: ``build_feed(feed, *, progress=None) -> FeedBuild`` and ``dry_run(feed) -> DryRun``.
"""
from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.utils import timezone

from socialshop.catalog import ProductRecord, get_catalog
from socialshop.conf import app_settings
from socialshop.core.jobs import bulk_work, single_flight
from socialshop.feeds.items import ERROR, FILTERED, ItemMapper, Problem
from socialshop.feeds.models import BuildStatus, Feed, FeedBuild
from socialshop.feeds.publishing import prune_history, publish, save_build_file
from socialshop.feeds.rules import rule_context
from socialshop.feeds.specs import FIELDS, spec_for
from socialshop.feeds.writers import Channel, writer_for

logger = logging.getLogger(__name__)
EXAMPLES_PER_REASON = 5

Progress = Callable[[int, int], None]  # (records read, items written) after each chunk


@dataclass(slots=True)
class Tally:
    """Counts of a build, and per reason the count and a few example product ids (bounded memory)."""

    seen: int = 0
    written: int = 0
    skipped: int = 0
    warned: int = 0
    reasons: dict[str, dict] = field(default_factory=dict)

    def note(self, record_id: str, problems: list[Problem]) -> None:
        for severity, code, message in problems:
            entry = self.reasons.get(code)
            if entry is None:
                entry = self.reasons[code] = {"severity": severity, "message": message, "count": 0, "examples": []}
            entry["count"] += 1
            if len(entry["examples"]) < EXAMPLES_PER_REASON:
                entry["examples"].append(record_id)


def feed_columns(feed: Feed) -> list[str]:
    """The columns a feed file carries, in order (CSV/TSV header; XML element whitelist)."""
    spec = spec_for(feed.platform)
    labels = list(feed.custom_labels or ())
    columns = []
    for name in FIELDS:
        if name == "identifier_exists" and not spec.uses_identifier_exists:
            continue
        if name == "shipping" and feed.shipping_price is None:
            continue
        if name.startswith("custom_label_") and not (int(name[-1]) < len(labels) and labels[int(name[-1])]):
            continue
        if name == "additional_image_link" and feed.images == "main":
            continue
        columns.append(name)
    return columns


def _mapper(feed: Feed) -> ItemMapper:
    spec = spec_for(feed.platform)
    ctx = rule_context(list(feed.custom_labels or ()), now=timezone.now())
    return ItemMapper.for_feed(feed, spec, ctx)


def _chunks(mapper: ItemMapper) -> Iterator[list[ProductRecord]]:
    """The catalogue's chunks; the mapper forgets the previous chunk's ids at each one."""
    for chunk in get_catalog().iter_chunks():
        mapper.new_chunk()
        yield chunk


def build_feed(feed: Feed, *, progress: Progress | None = None, force: bool = False, allow_empty: bool = False) -> FeedBuild:
    """Build ``feed`` now and publish it unless the guard refuses; returns the ``FeedBuild``.

    Single-flight per feed: raises ``JobLocked`` while another build of it runs. Any failure
    (catalogue, storage) is recorded on the returned build as ``failed``; the live file stays.
    ``force`` skips the publish guard's shrink check; an empty build is published only with
    ``allow_empty`` (it deletes every product on the platform), never by ``force`` alone.
    """
    with single_flight(f"socialshop.build_feed:{feed.pk}"), bulk_work():
        build = FeedBuild.objects.create(feed=feed, status=BuildStatus.RUNNING, started_at=timezone.now())
        tally = Tally()
        try:
            _write_and_publish(feed, build, tally=tally, progress=progress, force=force, allow_empty=allow_empty)
        except Exception as exc:  # noqa: BLE001 - recorded on the build; the live file stays
            logger.exception("feed %s: build %s failed", feed.slug, build.pk)
            _store_tally(build, tally)
            build.status = BuildStatus.FAILED
            build.message = f"{type(exc).__name__}: {exc}"[:2000]
            build.finished_at = timezone.now()
            build.save()
        prune_history(feed)
        return build


def _note_shared_gtins(mapper: ItemMapper, tally: Tally) -> None:
    """Replace the per-item ``shared_gtin`` message with the build's count of shared GTINs and examples."""
    entry = tally.reasons.get("shared_gtin")
    if entry is not None:
        entry["message"] = mapper.shared_gtins.summary()


def _store_tally(build: FeedBuild, tally: Tally) -> None:
    build.items_seen = tally.seen
    build.items_written = tally.written
    build.items_skipped = tally.skipped
    build.items_warned = tally.warned
    build.reasons = tally.reasons


def _write_and_publish(feed: Feed, build: FeedBuild, *, tally: Tally, progress: Progress | None, force: bool,
                       allow_empty: bool) -> None:
    spec = spec_for(feed.platform)
    if feed.file_format not in spec.formats:
        raise ValueError(f"{spec.name} does not accept {feed.file_format!r} feeds; use {', '.join(spec.formats)}")
    mapper = _mapper(feed)
    channel = Channel(
        title=feed.name, link=str(app_settings.SITE_URL or ""),
        description=f"{feed.name}: {spec.name} product feed",
    )
    with tempfile.TemporaryFile(prefix="socialshop-feed-") as tmp:
        writer = writer_for(feed.file_format)(tmp, spec, columns=feed_columns(feed), channel=channel)
        writer.open()
        write, note, map_record = writer.write, tally.note, mapper.map_parts
        chunks = _chunks(mapper)
        while True:
            chunk = None  # let go of the previous chunk before the next one is read
            chunk = next(chunks, None)
            if chunk is None:
                break
            for record in chunk:
                tally.seen += 1
                own, shared, problems = map_record(record)
                if problems:
                    note(record.id, problems)
                    if own is None:
                        tally.skipped += 1
                        continue
                    tally.warned += 1
                write(own, shared)
                tally.written += 1
            if progress is not None:
                progress(tally.seen, tally.written)
        writer.close()
        _note_shared_gtins(mapper, tally)
        _store_tally(build, tally)
        build.size_bytes = writer.size
        build.content_hash = writer.sha256
        build.finished_at = timezone.now()
        tmp.flush()
        if tally.written == 0 and not allow_empty:
            build.file_name = ""  # the guard refuses it anyway; nothing to store
        else:
            build.file_name = save_build_file(feed, build, content=tmp)
    publish(feed, build, force=force, allow_empty=allow_empty)


@dataclass(slots=True)
class DryRun:
    """What a build would write: counts, reasons, and the excluded products with their reason."""

    tally: Tally
    excluded: list[dict[str, str]]
    truncated: bool


def dry_run(feed: Feed, *, limit: int = 500) -> DryRun:
    """Check every record against the feed's filters and the platform's rules; writes nothing.

    ``excluded`` lists up to ``limit`` left-out products as {id, title, severity, code, message}.
    """
    mapper = _mapper(feed)
    tally = Tally()
    excluded: list[dict[str, str]] = []
    truncated = False
    with bulk_work():
        for chunk in _chunks(mapper):
            for record in chunk:
                tally.seen += 1
                item, problems = mapper.map(record)
                if problems:
                    tally.note(record.id, problems)
                if item is None:
                    tally.skipped += 1
                    reason = next((p for p in problems if p[0] in (ERROR, FILTERED)), problems[-1])
                    if len(excluded) < limit:
                        excluded.append({"id": record.id, "title": record.title[:120], "severity": reason[0],
                                         "code": reason[1], "message": reason[2]})
                    else:
                        truncated = True
                else:
                    tally.written += 1
                    tally.warned += bool(problems)
    _note_shared_gtins(mapper, tally)
    return DryRun(tally=tally, excluded=excluded, truncated=truncated)
