"""Building an audience: the rule's persons as candidate rows (audiences/rules.py), then the membership
diff in SQL (joins and leaves with their times), all in one transaction.

Entry point: ``build_audience(audience, *, progress=None) -> AudienceBuild``, single-flight per audience.
A build that fails or is killed leaves the previous membership intact (the transaction rolls back).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from django.db import connection
from django.utils import timezone

from socialshop.audiences.models import Audience, AudienceBuild, AudienceCandidate, AudienceMember, BuildStatus, RuleKind
from socialshop.audiences.rules import fill_candidates, refresh_visitor_links, this_build
from socialshop.catalog import get_catalog
from socialshop.core.db import writing
from socialshop.core.jobs import single_flight
from socialshop.exceptions import ConfigurationError

logger = logging.getLogger(__name__)
KEEP_BUILDS = 200

Progress = Callable[[str], None]  # one line per step


def _t(model: type) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def chosen_product_ids(audience: Audience) -> list[str]:
    """The catalog ids a viewer rule names: its ``products`` plus every product (and variant) in its ``categories``."""
    params = audience.params or {}
    ids = {str(p) for p in params.get("products") or []}
    categories = [str(c).strip().lower() for c in params.get("categories") or [] if str(c).strip()]
    if categories:
        for record in get_catalog().iter_records():
            path = " > ".join(record.category_path).lower()
            if any(path == c or path.startswith(c + " >") for c in categories):
                ids.add(record.id)
                if record.item_group_id:
                    ids.add(record.item_group_id)
    return sorted(ids)


def no_jit() -> None:
    """PostgreSQL: no JIT compilation for the rest of this transaction.

    A build's statements are each planned above ``jit_above_cost`` once the event store holds a few
    million rows, and compiling them took longer than running them (3.8 s of JIT for a 1.2 s
    exclusion at 3,000,000 events, measured with EXPLAIN ANALYZE; bench/audiences.py).
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")


def apply_diff(audience: Audience, build: AudienceBuild, *, now: datetime, table: str | None = None) -> tuple[int, int]:
    """Close memberships missing from the candidates (in ``table``, as ``fill_candidates`` returned it;
    default the ``AudienceCandidate`` table) and open new ones; returns (added, removed)."""
    members, candidates = _t(AudienceMember), table or _t(AudienceCandidate)
    ours, ours_params = this_build(candidates, build.pk, alias="c")
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {members} SET left_at = %s WHERE audience_id = %s AND left_at IS NULL AND NOT EXISTS "
            f"(SELECT 1 FROM {candidates} c WHERE {ours} AND c.person = {members}.person)",
            [now, audience.pk, *ours_params])
        removed = max(cursor.rowcount, 0)
        cursor.execute(
            f"INSERT INTO {members} (audience_id, person, visitor_id, user_id, qualified_at, reason, joined_at, left_at) "
            f"SELECT %s, c.person, MAX(c.visitor_id), MAX(c.user_id), MAX(c.qualified_at), MAX(c.reason), %s, NULL "
            f"FROM {candidates} c WHERE {ours} AND NOT EXISTS (SELECT 1 FROM {members} m "
            f"WHERE m.audience_id = %s AND m.left_at IS NULL AND m.person = c.person) GROUP BY c.person",
            [audience.pk, now, *ours_params, audience.pk])
        added = max(cursor.rowcount, 0)
        if candidates == _t(AudienceCandidate):  # a temporary table goes with the transaction
            cursor.execute(f"DELETE FROM {candidates} WHERE build_id = %s", [build.pk])
    return added, removed


def _store_size(audience: Audience, *, now: datetime) -> int:
    """Count the open memberships into ``Audience.size`` (and stamp ``last_built_at``) in one statement; returns it."""
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {_t(Audience)} SET size = (SELECT COUNT(*) FROM {_t(AudienceMember)} m WHERE m.audience_id = %s "
                       f"AND m.left_at IS NULL), last_built_at = %s WHERE id = %s RETURNING size", [audience.pk, now, audience.pk])
        row = cursor.fetchone()
    return int(row[0]) if row else 0


# Writes a build's candidate rows (build id, now): how a package above, such as campaigns/ads.py, fills
# an audience of kind ``campaign`` while this module keeps the diff, the history and the build record.
Fill = Callable[[int, datetime], None]


def build_audience(audience: Audience, *, progress: Progress | None = None, fill: Fill | None = None) -> AudienceBuild:
    """Rebuild ``audience``'s membership now; returns the ``AudienceBuild`` (failed builds record the error).

    ``fill`` replaces the rule for audiences whose members another package decides (kind ``campaign``);
    such an audience built without one fails, leaving its membership as it was.
    Single-flight per audience: raises ``JobLocked`` while another build of it runs.
    """
    say = progress or (lambda line: None)
    with single_flight(f"socialshop.build_audience:{audience.pk}"):
        now = timezone.now()
        build = AudienceBuild.objects.create(audience=audience, status=BuildStatus.RUNNING, started_at=now)
        try:
            product_ids = chosen_product_ids(audience) if audience.kind == RuleKind.VIEWERS else []
            with writing():
                no_jit()
                linked = refresh_visitor_links()
                say(f"{audience.slug}: {linked} new visitor links")
                table: str | None = None  # a campaign's fill writes the AudienceCandidate table itself
                if fill is not None:
                    fill(build.pk, now)
                elif audience.kind == RuleKind.CAMPAIGN:
                    raise ConfigurationError(f"audience {audience.slug!r} is kept by its campaign: refresh the campaign instead")
                else:
                    table = fill_candidates(audience, build.pk, now=now, product_ids=product_ids)
                say(f"{audience.slug}: rule evaluated")
                added, removed = apply_diff(audience, build, now=now, table=table)
                size = _store_size(audience, now=now)
                build.status, build.size, build.added, build.removed = BuildStatus.SUCCEEDED, size, added, removed
                build.finished_at = timezone.now()
                build.save()
            audience.size, audience.last_built_at = size, now
            say(f"{audience.slug}: {size} members (+{added} -{removed})")
        except Exception as exc:  # noqa: BLE001 - recorded on the build; the membership is unchanged
            logger.exception("audience %s: build %s failed", audience.slug, build.pk)
            build.status = BuildStatus.FAILED
            build.error = f"{type(exc).__name__}: {exc}"[:2000]
            build.finished_at = timezone.now()
            build.save()
        stale = list(AudienceBuild.objects.filter(audience=audience).values_list("pk", flat=True)[KEEP_BUILDS:])
        if stale:
            AudienceBuild.objects.filter(pk__in=stale).delete()
        return build
