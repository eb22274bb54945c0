"""Demo-only admin page: the requests the platform stand-in (shop_demo/fakeplatforms.py) received, and what
the demo forgets of a stand-in that is gone.

The demo command appends one JSON line per request to VAR_DIR/platform-requests.jsonl; this reads the end of it.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

SHOWN = 200


def log_path() -> Path:
    return Path(settings.VAR_DIR) / "platform-requests.jsonl"


def recent_requests(*, limit: int = SHOWN) -> list[dict[str, Any]]:
    """The last ``limit`` requests the stand-in recorded, newest first (unreadable lines skipped)."""
    try:
        lines = log_path().read_text(encoding="utf-8").splitlines()[-limit:]
    except OSError:
        return []
    out = []
    for line in reversed(lines):
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict):
            out.append(entry)
    return out


def forget_stand_in_lists() -> int:
    """Forget the audience lists, twins and lookalikes a previous run made on its stand-in; returns how many
    platform destinations had some. The stand-in keeps nothing when the demo stops, so without this the
    next sync would add members to lists it never heard of; the first sync of this run makes them again."""
    from socialshop.audiences.models import AudienceChange, Destination, DestinationMember

    with transaction.atomic():
        made = Destination.objects.exclude(remote_id="", twin_id="", lookalike_id="").count()
        AudienceChange.objects.all().delete()
        DestinationMember.objects.all().delete()
        Destination.objects.update(remote_id="", twin_id="", lookalike_id="", state="", last_result={}, synced_until=None)
    return made


def stand_in_view(request: HttpRequest) -> HttpResponse:
    """Admin page listing what the stand-in received: server API calls, audience uploads and browser-script beacons."""
    entries = recent_requests()
    context = {
        **admin.site.each_context(request),
        "title": "Platform stand-in: requests received",
        "entries": entries,
        "log_path": log_path(),
        "counts": {kind: sum(1 for e in entries if e.get("kind") == kind) for kind in ("server", "audience", "browser")},
    }
    return TemplateResponse(request, "store/admin/stand_in.html", context)
