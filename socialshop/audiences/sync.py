"""Keeping each audience in step on each platform: diff the wanted members against what was sent
(``DestinationMember``), queue the adds and removes (``AudienceChange``), send them through the
delivery engine in the platform's batch sizes, and record each batch's result.

Wanted = current members whose consent allows sharing with ad platforms (an opt-out or GPC already
takes them out of the membership; a withdrawn ads consent takes them out here). So an opt-out or a
withdrawn consent becomes a removal at the next sync, and only changes since the last successful
upload are ever sent. Identifiers are hashes only (``identifiers``).
"""
from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from operator import itemgetter
from typing import Any, ClassVar, NamedTuple

import orjson
from django.db import connection
from django.utils import timezone

from socialshop.audiences.identity import HASH_KEYS, hashes_sql, identifiers, identity_joins, matchable_sql, refresh_identity
from socialshop.audiences.models import (
    Audience, AudienceChange, AudienceMember, ChangeOp, Destination, DestinationMember, RuleKind,
)
from socialshop.conf import app_settings
from socialshop.platforms import REGISTRY, configured_platforms, get_platform
from socialshop.audiences.twins import sync_lookalike, sync_twin, twin_and_lookalike_results, website_rule
from socialshop.platforms.audiences import CREATED_ID_KEY, AudienceUploads, Member, answer_counts
from socialshop.platforms.base import Capability, Platform
from socialshop.platforms.delivery import DrainResult, Queue, drain
from socialshop.platforms.events import SendResult
from socialshop.platforms.http import PlatformAPIError
from socialshop.platforms.models import DeliveryStatus
from socialshop.platforms.status import record_error
from socialshop.privacy.models import ConsentChoice, ConsentRecord

__all__ = ["HASH_KEYS", "identifiers", "sync_audience", "sync_audiences", "sync_lookalike", "sync_twin", "website_rule"]
logger = logging.getLogger(__name__)
# Skipped-as-unmatchable members are looked at again after this long (they may have bought since).
RECHECK_UNMATCHED = timedelta(days=1)
# Sent and skipped change rows are kept this long for admin, then deleted.
KEEP_CHANGES = timedelta(days=30)


def _t(model: Any) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _consent_ok_sql() -> tuple[str, list[Any]]:
    """SQL true for a member ``m`` whose consent allows sharing with ad platforms (list rows: the store's own list)."""
    consent = _t(ConsentRecord)
    refused = f"(r.opted_out OR r.gpc OR r.ads <> %s)"
    # Two NOT EXISTS, not one with an OR: each can use its index (an OR made PostgreSQL scan every
    # consent row per member: over 30 s for 10,000 members).
    sql = (f"(m.person LIKE 'l:%%' OR (NOT EXISTS (SELECT 1 FROM {consent} r WHERE {refused} AND r.visitor_id = m.visitor_id) "
           f"AND (m.user_id IS NULL OR NOT EXISTS (SELECT 1 FROM {consent} r WHERE {refused} AND r.user_id = m.user_id))")
    params: list[Any] = [ConsentChoice.GRANTED, ConsentChoice.GRANTED]
    if app_settings.CONSENT_REQUIRED:
        # Where consent is required, sharing needs a granted record, not just the absence of a refusal.
        sql += f" AND EXISTS (SELECT 1 FROM {consent} r WHERE r.visitor_id = m.visitor_id AND r.ads = %s)"
        params.append(ConsentChoice.GRANTED)
    return sql + "))", params


def _uploads_class(platform: str) -> type[AudienceUploads] | None:
    cls = REGISTRY[platform].capabilities.get("audiences") if platform in REGISTRY else None
    return cls if cls is not None and issubclass(cls, AudienceUploads) else None


def _identifier_keys(platform: str) -> tuple[str, ...]:
    """The hash keys ``platform``'s audience uploads match on (its capability class: no settings needed)."""
    cls = _uploads_class(platform)
    return tuple(cls.identifier_keys) if cls is not None else HASH_KEYS


def _sent_keys(platform: str) -> tuple[str, ...]:
    """The hash keys ``platform``'s uploads carry (``AudienceUploads.sent_keys``)."""
    cls = _uploads_class(platform)
    return cls.sent_keys() if cls is not None else HASH_KEYS


def queue_changes(destination: Destination, *, refreshed: bool = False) -> tuple[int, int]:
    """Queue the adds and removes that bring the platform's list to the wanted members; returns (adds, removes).

    Only members with an identifier the platform matches on are queued (``matchable_sql`` over the stored
    hashes, brought up to date here); the others are counted by ``unmatchable_count`` and looked at again by
    every sync, so a member who checks out later is queued at the next one.
    """
    if not refreshed:  # ``refreshed``: the caller folded the new events' hashes just before (``_sync_list``)
        refresh_identity()  # hashes of events stored since the last pass (one cursor read when there are none)
    changes, members, uploaded = _t(AudienceChange), _t(AudienceMember), _t(DestinationMember)
    now = timezone.now()
    DestinationMember.objects.filter(destination=destination, matched=False, added_at__lt=now - RECHECK_UNMATCHED).delete()
    ok, ok_params = _consent_ok_sql()
    joins, matchable = identity_joins("m"), matchable_sql(_identifier_keys(destination.platform))
    hashes = hashes_sql("m", _sent_keys(destination.platform))
    columns = ("platform, status, attempts, claimed_by, reason, created_at, updated_at, destination_id, person, "
               "visitor_id, user_id, op")
    # NOT IN over one uncorrelated subquery: PostgreSQL hashes it once. A correlated NOT EXISTS on the
    # table being inserted into was planned as a scan per member over the rows this INSERT adds (O(n^2):
    # 30-45 s for 10,000 members). ``person`` is never NULL, so NOT IN means NOT EXISTS here.
    pending = (f"{{p}}.person NOT IN (SELECT c.person FROM {changes} c WHERE c.destination_id = %s "
               f"AND c.op = %s AND c.status IN ('pending', 'sending'))")
    with connection.cursor() as cursor:
        # Each add carries its hashes, joined once here for the test and the values (identity.py): the claims
        # that send them read narrow rows and look nothing up (bench/audiences.py, upload preparation).
        cursor.execute(
            f"INSERT INTO {changes} ({columns}, hashes) SELECT %s, 'pending', 0, '', '', %s, %s, %s, m.person, m.visitor_id, "
            f"m.user_id, 'add', {hashes} FROM {members} m {joins} "
            f"WHERE m.audience_id = %s AND m.left_at IS NULL AND {ok} AND {matchable} "
            f"AND NOT EXISTS (SELECT 1 FROM {uploaded} u WHERE u.destination_id = %s AND u.person = m.person) "
            f"AND {pending.format(p='m')}",
            [destination.platform, now, now, destination.pk, destination.audience_id, *ok_params, destination.pk,
             destination.pk, ChangeOp.ADD])
        adds = max(cursor.rowcount, 0)
        # NOT EXISTS rather than NOT IN: PostgreSQL runs it as an anti-join on ss_member_current.
        unwanted = (f"NOT EXISTS (SELECT 1 FROM {members} m WHERE m.audience_id = %s AND m.left_at IS NULL "
                    f"AND m.person = {{p}}.person AND {ok})")
        # Skipped (unmatchable) rows were never on the platform: forget them without a call.
        cursor.execute(
            f"DELETE FROM {uploaded} WHERE destination_id = %s AND matched = %s AND {unwanted.format(p=uploaded)}",
            [destination.pk, False, destination.audience_id, *ok_params])
        cursor.execute(
            f"INSERT INTO {changes} ({columns}) SELECT %s, 'pending', 0, '', '', %s, %s, %s, u.person, '', NULL, 'remove' "
            f"FROM {uploaded} u WHERE u.destination_id = %s AND u.matched = %s AND {unwanted.format(p='u')} "
            f"AND {pending.format(p='u')}",
            [destination.platform, now, now, destination.pk, destination.pk, True, destination.audience_id, *ok_params,
             destination.pk, ChangeOp.REMOVE])
        removes = max(cursor.rowcount, 0)
    return adds, removes


class ChangeRow(NamedTuple):
    """One claimed ``AudienceChange`` as the drain needs it (a tuple, not a model instance: a claim holds
    10,000 of them, and building model instances took most of an upload's preparation, measured)."""

    pk: int
    attempts: int
    destination_id: int
    person: str
    visitor_id: str
    user_id: int | None
    op: str
    hashes: dict[str, str] | None = None  # an add's hashes queued with it; None: looked up when prepared


# Getters of ChangeRow's pk, hashes and (destination, operation), and of Member's key, for the C-level passes.
_PK, _HASHES = itemgetter(ChangeRow._fields.index("pk")), itemgetter(ChangeRow._fields.index("hashes"))
_GROUP = itemgetter(ChangeRow._fields.index("destination_id"), ChangeRow._fields.index("op"))
_KEY = itemgetter(Member._fields.index("key"))
_MEMBER = partial(tuple.__new__, Member)  # Member from a (key, hashes) pair, without a Python-level call


@dataclass
class ChangeQueue(Queue):
    """``AudienceChange`` rows as records of a platform's ``AudienceUploads``; one instance per sync run."""

    kind: ClassVar[str] = "audiences"
    model: ClassVar[type[AudienceChange]] = AudienceChange
    batches_done: list[dict[str, Any]] = field(default_factory=list)
    looked_up: dict[int, dict[str, str]] = field(default_factory=dict)  # list rows' adds: the hashes sent
    _rows: dict[str, ChangeRow] = field(default_factory=dict)
    remote_ids: dict[int, str] = field(default_factory=dict)  # destination id -> the platform's list id

    # The claim's UPDATE returns the rows (PostgreSQL); ``claimed`` reads the same columns (SQLite, a re-read).
    returning: ClassVar[str] = f"id, {', '.join(ChangeRow._fields[1:-1])}, CAST(hashes AS TEXT)"

    def claimed(self, token: str) -> list[ChangeRow]:  # type: ignore[override]
        # Read raw: a claim holds 10,000 rows, and model instances or Django's per-value converters cost
        # more than the rest of preparing.
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {self.returning} FROM {_t(AudienceChange)} "
                           f"WHERE claimed_by = %s AND status = %s", [token, DeliveryStatus.SENDING])
            return self.returned(cursor.fetchall())

    def returned(self, values: list[tuple[Any, ...]]) -> list[ChangeRow]:
        # The hashes are JSON text, decoded with orjson: the driver's own JSON decoding took longer than the
        # rest of preparing (bench/audiences.py). PostgreSQL's queue wrote them without nulls
        # (``hashes_sql``); elsewhere the empty values are dropped here.
        loads, clean = orjson.loads, connection.vendor != "postgresql"
        rows = sorted((ChangeRow(*row[:-1], None if row[-1] is None else _hashes(loads(row[-1]), clean)) for row in values),
                      key=itemgetter(0))
        missing = {r.destination_id for r in rows} - set(self.remote_ids)
        if missing:
            self.remote_ids.update(Destination.objects.filter(pk__in=missing).values_list("pk", "remote_id"))
        return rows

    def prepare(self, capability: Capability, rows: Sequence[Any], *, now: float) -> tuple[list[tuple[Any, Any]], dict[str, list[int]]]:
        assert isinstance(capability, AudienceUploads)
        add = ChangeOp.ADD.value  # the plain text: comparing with the enum member costs 10x per row
        # The adds the queue stored hashes with (nearly all of a claim) go through C-level passes (map, zip,
        # comprehensions): a Python loop per member cost five times the bare hashing of its identifiers
        # (bench/audiences.py). Stored hashes hold non-empty values only (``returned``): matchable when any
        # key is one the platform matches on. The rest (list rows, whose hashes are looked up, and
        # removals, sent with the hashes they were added with) follow one by one.
        keys = frozenset(capability.identifier_keys)
        stored = [row for row in rows if row.hashes is not None and row.op == add]
        others = [row for row in rows if row.hashes is None or row.op != add] if len(stored) < len(rows) else []
        skipped = [row.pk for row in stored if keys.isdisjoint(row.hashes)]
        if skipped:
            stored = [row for row in stored if not keys.isdisjoint(row.hashes)]
        ids = list(map(str, map(_PK, stored)))
        self._rows.update(zip(ids, stored))
        sendable: list[tuple[Any, Any]] = list(zip(stored, map(_MEMBER, zip(ids, map(_HASHES, stored)))))
        kept, append = self._rows, sendable.append
        if others:
            found = identifiers([r for r in others if r.op == add])
            removes = [r for r in others if r.op != add]
            sent = {(d, p): h for d, p, h in DestinationMember.objects.filter(
                destination_id__in={r.destination_id for r in removes}, person__in=[r.person for r in removes],
            ).values_list("destination_id", "person", "hashes")} if removes else {}
            for row in others:
                if row.op == add:
                    hashes = found.get(row.person) or {}
                    if not capability.matchable(hashes):
                        skipped.append(row.pk)
                        continue
                    self.looked_up[row.pk] = hashes
                else:
                    hashes = sent.get((row.destination_id, row.person), {})
                key = str(row.pk)
                kept[key] = row
                append((row, Member(key, hashes)))
        if skipped:
            _remember(skipped, matched=False)
        return sendable, ({f"no identifier {capability.name} matches on": skipped} if skipped else {})

    def key(self, record: Member) -> str:
        return record.key

    def batches(self, capability: Capability, records: list[Any]) -> list[list[Any]]:
        assert isinstance(capability, AudienceUploads)
        rows = list(map(self._rows.__getitem__, map(_KEY, records)))
        if len(set(map(_GROUP, rows))) == 1:  # one audience's adds or removals (nearly every claim): no regrouping
            groups: dict[tuple[int, str], list[Member]] = {_GROUP(rows[0]): records}
        else:
            groups = {}
            for record, row in zip(records, rows):
                groups.setdefault(_GROUP(row), []).append(record)
        out: list[list[Any]] = []
        for (_, op), group in groups.items():
            limit = capability.batch_limit if op == ChangeOp.ADD else capability.remove_batch_limit
            out += [group[i:i + limit] for i in range(0, len(group), limit)]
        return out

    def send(self, capability: Capability, records: list[Any]) -> SendResult:
        assert isinstance(capability, AudienceUploads)
        row = self._rows[records[0].key]
        call = capability.add_members if row.op == ChangeOp.ADD else capability.remove_members
        try:
            result = call(self.remote_ids[row.destination_id], records)
        except PlatformAPIError as exc:
            self.batches_done.append({"op": row.op, "members": len(records), "error": exc.message[:300], "status": exc.status})
            raise
        self.batches_done.append({"op": row.op, "members": len(records), "accepted": result.sent,
                                  "rejected": len(result.rejected), **answer_counts(result.response, *ANSWER_KEYS),
                                  **({"refused": sorted(set(result.rejected.values()))[:3]} if result.rejected else {})})
        created = result.response.get(CREATED_ID_KEY) if isinstance(result.response, dict) else None
        if created:  # the list was created with this first batch (TikTok): keep its id for the next batches
            Destination.objects.filter(pk=row.destination_id).update(remote_id=str(created))
            self.remote_ids[row.destination_id] = str(created)
        return result

    def after_sent(self, pks: Sequence[int]) -> None:
        # Adds are remembered with the hashes they were sent with: copied from their change rows inside the
        # database, list rows' (looked up when prepared) from here.
        rows = [self._rows[f"{pk}"] for pk in pks if f"{pk}" in self._rows]
        _remember([r.pk for r in rows if r.op == ChangeOp.ADD and r.hashes is not None], matched=True)
        now = timezone.now()
        DestinationMember.objects.bulk_create([
            DestinationMember(destination_id=r.destination_id, person=r.person, hashes=self.looked_up[r.pk], added_at=now)
            for r in rows if r.pk in self.looked_up], ignore_conflicts=True)
        for destination_id in {r.destination_id for r in rows if r.op == ChangeOp.REMOVE}:
            DestinationMember.objects.filter(destination_id=destination_id, person__in=[
                r.person for r in rows if r.op == ChangeOp.REMOVE and r.destination_id == destination_id]).delete()


def _hashes(found: Any, clean: bool) -> dict[str, str] | None:
    """A change's stored hashes, decoded; with ``clean`` the empty values dropped. None: none stored."""
    if not isinstance(found, dict):
        return None
    return {k: v for k, v in found.items() if v} if clean else found


def _remember(change_ids: Sequence[int], *, matched: bool) -> None:
    """Remember the members of these ``AudienceChange`` rows on their destination, set-based: one
    INSERT ... SELECT per chunk, no model instances (bulk_create and multi-row VALUES spent seconds
    per 10,000 members building and quoting parameters, measured). ``matched``: sent, with the hashes
    queued with the change; otherwise skipped as unmatchable, with none."""
    if not change_ids:
        return
    members, changes = _t(DestinationMember), _t(AudienceChange)
    now = DestinationMember._meta.get_field("added_at").get_db_prep_save(timezone.now(), connection)
    empty = DestinationMember._meta.get_field("hashes").get_db_prep_save({}, connection)
    # As queued (on SQLite a merge patch drops the nulls a change queued before ``hashes_sql`` dropped them kept).
    hashes = ("c.hashes" if connection.vendor == "postgresql" else "json_patch('{}', c.hashes)") if matched else "%s"
    with connection.cursor() as cursor:
        # The ids as one comma-joined text on PostgreSQL: adapting a 10,000-element list parameter took longer
        # than the INSERT (cProfile, bench/audiences.py).
        ids = [int(i) for i in change_ids]
        chunks = ([("= ANY(CAST(string_to_array(%s, ',') AS BIGINT[]))", [",".join(map(str, ids))])]
                  if connection.vendor == "postgresql"
                  else [(f"IN ({', '.join(['%s'] * len(ids[i:i + 500]))})", ids[i:i + 500]) for i in range(0, len(ids), 500)])
        for match, params in chunks:
            cursor.execute(
                f"INSERT INTO {members} (destination_id, person, hashes, matched, added_at) SELECT c.destination_id, "
                f"c.person, {hashes}, %s, %s FROM {changes} c WHERE c.id {match} ON CONFLICT (destination_id, person) DO NOTHING",
                [*([] if matched else [empty]), matched, now, *params])


# What the platforms' answers say about a batch (Meta: num_received/num_invalid_entries; Pinterest, Google, TikTok
# name theirs); kept as they come for admin.
ANSWER_KEYS = ("num_received", "num_invalid_entries", "invalid_entry_samples", "requestId", "match_rate_range",
               "received", "invalid", "code")


@dataclass(frozen=True, slots=True)
class SyncResult:
    """What one audience's sync to one platform did."""

    platform: str
    state: str
    queued_adds: int = 0
    queued_removes: int = 0
    drain: DrainResult | None = None
    unmatchable: int = 0  # shareable members with no identifier this platform matches on (never queued)


def ensure_remote(destination: Destination, uploads: AudienceUploads, *, wanted: int) -> str | None:
    """Create the platform's list once the audience is big enough; returns why not, or None when it exists.

    ``wanted``: the members the list would hold, those who may be shared and carry an identifier the
    platform matches on (the minimum is the platform's, for what it receives: TikTok refuses to create an
    audience from fewer than 1,000, and 2,000 shareable visitors of whom 300 left an email are 300)."""
    if destination.remote_id:
        return None
    if wanted < uploads.min_size:
        return (f"{wanted} members can be shared with an identifier {uploads.name} matches on, below "
                f"{uploads.name}'s minimum of {uploads.min_size}: not uploaded")
    audience = destination.audience
    destination.remote_id = uploads.create_audience(audience.name, description=f"socialshop audience {audience.slug}")
    destination.save(update_fields=["remote_id", "updated_at"])
    return None


def unmatchable_count(destination: Destination) -> int:
    """Members who may be shared but have no identifier the destination's platform matches on (not queued)."""
    ok, params = _consent_ok_sql()
    matchable = matchable_sql(_identifier_keys(destination.platform))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {_t(AudienceMember)} m {identity_joins('m')} WHERE m.audience_id = %s "
                       f"AND m.left_at IS NULL AND {ok} AND NOT {matchable}", [destination.audience_id, *params])
        return int(cursor.fetchone()[0])


def wanted_count(audience: Audience) -> int:
    ok, params = _consent_ok_sql()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {_t(AudienceMember)} m WHERE m.audience_id = %s AND m.left_at IS NULL AND {ok}",
                       [audience.pk, *params])
        return int(cursor.fetchone()[0])


def sync_audience(audience: Audience, platform: Platform, *, max_seconds: float = 300) -> SyncResult:
    """Bring ``audience``'s list, website twin and lookalike on ``platform`` in step now; records the
    outcome on its ``Destination`` (the twin's and lookalike's in ``last_result``)."""
    uploads = platform.capability("audiences")
    assert isinstance(uploads, AudienceUploads)
    destination, _ = Destination.objects.get_or_create(audience=audience, platform=platform.slug)
    now = timezone.now()
    result = _sync_list(destination, platform, uploads, now=now, max_seconds=max_seconds)
    sync_twin(destination, platform)
    sync_lookalike(destination, platform, uploads)
    return _record(destination, result, now=now)


def _sync_list(destination: Destination, platform: Platform, uploads: AudienceUploads, *, now: Any,
               max_seconds: float) -> SyncResult:
    """The customer list's part of ``sync_audience``: create it once big enough, queue the diff, drain it."""
    refresh_identity()  # the stored hashes up to date before counting who can be matched
    unmatchable = unmatchable_count(destination)
    try:
        why_not = ensure_remote(destination, uploads, wanted=wanted_count(destination.audience) - unmatchable)
    except PlatformAPIError as exc:
        record_error(uploads, str(exc), halt=exc.auth)
        return SyncResult(platform.slug, f"could not create the list: {exc}")
    if why_not:
        return SyncResult(platform.slug, why_not)
    adds, removes = queue_changes(destination, refreshed=True)
    queue = ChangeQueue()
    # One claim fills one add request (Meta takes 10,000 rows, not the events' 1,000).
    result = drain(platform, queue, deadline=time.monotonic() + max_seconds,
                   claim_size=max(uploads.batch_limit, int(app_settings.FORWARD_CLAIM_SIZE)))
    destination.refresh_from_db(fields=["remote_id"])  # the drain may have stored the id of a list made with its first batch
    state = (f"{result.sent} sent, {result.failed} failed, {result.skipped} skipped"
             + (f", {unmatchable} without an identifier {uploads.name} matches on" if unmatchable else "")
             + (f"; stopped: {result.stopped}" if result.stopped else ""))
    destination.last_result = {**twin_and_lookalike_results(destination), "batches": queue.batches_done[-50:], "sent": result.sent, "failed": result.failed,
                               "skipped": result.skipped, "unmatchable": unmatchable, "stopped": result.stopped}
    AudienceChange.objects.filter(destination=destination, status__in=[DeliveryStatus.SENT, DeliveryStatus.SKIPPED],
                                  updated_at__lt=now - KEEP_CHANGES).delete()
    return SyncResult(platform.slug, state, adds, removes, result, unmatchable)


def _record(destination: Destination, result: SyncResult, *, now: Any) -> SyncResult:
    destination.state = result.state[:200]
    destination.last_sync_at = now
    destination.synced_until = now if result.drain is not None else destination.synced_until
    destination.save()
    return result


def sync_audiences(*, platform: str | None = None, audiences: Sequence[Audience] | None = None) -> list[SyncResult]:
    """Sync every enabled audience (or ``audiences``) to every platform with audience uploads on (or ``platform``)."""
    chosen = {platform: get_platform(platform)} if platform else configured_platforms("audiences")
    results = []
    for audience in audiences if audiences is not None else Audience.objects.filter(enabled=True):
        only = (audience.params or {}).get("platform") if audience.kind == RuleKind.CAMPAIGN else None
        for p in chosen.values():
            if only is None or p.slug == only:  # a campaign's ad audience goes to its own platform only
                results.append(sync_audience(audience, p))
    return results

