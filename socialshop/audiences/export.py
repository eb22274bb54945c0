"""The hashed export of an audience: its current members that may be shared with ad platforms, as
one platform's upload columns (``AudienceUploads.export_row``), read in chunks so memory stays flat.

The view and its permission are audiences/views.py; the identifiers come from audiences/sync.py.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from django.db import connection

from socialshop.audiences.models import Audience, AudienceMember
from socialshop.audiences.identity import identifiers, refresh_identity
from socialshop.audiences.sync import _consent_ok_sql
from socialshop.conf import app_settings
from socialshop.platforms import REGISTRY
from socialshop.platforms.audiences import AudienceUploads, Member
from socialshop.privacy.hashing import HEX64_RE

CHUNK = 1000  # members per query and per identifier lookup


class _Row(NamedTuple):
    person: str
    visitor_id: str
    user_id: int | None


def export_capability(slug: str) -> AudienceUploads | None:
    """The audience-upload capability of platform ``slug`` for its columns, or None when it has none.

    The platform need not be connected: its settings are used when present, else none (an export
    makes no API call), so a store can upload the file by hand.
    """
    cls = REGISTRY.get(slug)
    if cls is None or not cls.supports("audiences"):
        return None
    config = (app_settings.PLATFORMS or {}).get(slug)
    uploads = cls(config if isinstance(config, dict) else {}).capability("audiences")
    return uploads if isinstance(uploads, AudienceUploads) else None


def export_columns(uploads: AudienceUploads) -> list[str]:
    """The header of the platform's export file."""
    return list(uploads.export_row(Member(key="", hashes={})))


def export_rows(audience: Audience, uploads: AudienceUploads) -> Iterator[list[str]]:
    """The header, then one row of SHA-256 hex values ("" where unknown) per shareable, matchable member.

    Members are those of the last build whose consent allows sharing (as a sync uploads them);
    a member with none of the identifiers the platform matches on is left out.
    """
    columns = export_columns(uploads)
    yield columns
    refresh_identity()
    ok, params = _consent_ok_sql()
    table = connection.ops.quote_name(AudienceMember._meta.db_table)
    last = 0
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT m.id, m.person, m.visitor_id, m.user_id FROM {table} m WHERE m.audience_id = %s "
                f"AND m.left_at IS NULL AND m.id > %s AND {ok} ORDER BY m.id LIMIT {CHUNK}",
                [audience.pk, last, *params])
            chunk = cursor.fetchall()
        if not chunk:
            return
        last = chunk[-1][0]
        rows = [_Row(person, visitor_id or "", user_id) for _, person, visitor_id, user_id in chunk]
        found = identifiers(rows)
        for row in rows:
            hashes = {k: v for k, v in found.get(row.person, {}).items() if HEX64_RE.match(str(v))}
            if uploads.matchable(hashes):
                values = uploads.export_row(Member(key=row.person, hashes=hashes))
                yield [values.get(column, "") for column in columns]
