"""Audience views for staff: the hashed CSV export of an audience in one platform's upload schema.

URL: ``/socialshop/staff/audiences/<slug>/export/<platform>.csv`` (audiences/urls.py). Rows come
from audiences/export.py; admin pages are the audiences admin.
"""
from __future__ import annotations

import csv
import logging
from collections.abc import Iterable, Iterator

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from socialshop.audiences.export import export_capability, export_rows
from socialshop.audiences.models import Audience

logger = logging.getLogger(__name__)
EXPORT_PERMISSION = "socialshop.export_audience"


class _Line:
    """A write-only file for ``csv.writer`` that hands back what was written (Django's streaming CSV recipe)."""

    def write(self, value: str) -> str:
        return value


def _csv_lines(rows: Iterable[list[str]]) -> Iterator[str]:
    writer = csv.writer(_Line())
    for row in rows:
        yield writer.writerow(row)


@require_GET
def export_audience(request: HttpRequest, *, slug: str, platform: str) -> StreamingHttpResponse:
    """Stream ``audience``'s shareable members as SHA-256 hashes in ``platform``'s upload columns.

    Staff with ``socialshop.export_audience`` only (403 otherwise, before anything is looked up);
    404 for an unknown audience, an unknown platform or one without audience uploads.
    """
    user = request.user
    if not (user.is_active and user.is_staff and user.has_perm(EXPORT_PERMISSION)):
        raise PermissionDenied("exporting an audience needs the socialshop.export_audience permission")
    audience = get_object_or_404(Audience, slug=slug)
    uploads = export_capability(platform)
    if uploads is None:
        raise Http404(f"no platform {platform!r} with audience uploads")
    logger.info("audience %s exported for %s by user %s", audience.slug, platform, user.pk)
    response = StreamingHttpResponse(_csv_lines(export_rows(audience, uploads)), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{audience.slug}-{platform}.csv"'
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
