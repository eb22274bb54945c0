"""HTTP endpoints of tracking: the tag script, the collector and the no-JS pixel.

The logic they call is ``tracking/collector.py``; the template tags that load the tag are in
``templatetags/tracking_tags.py``.
"""
from __future__ import annotations

import base64
import hashlib
import json
import time
from functools import lru_cache
from pathlib import Path

import orjson
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from socialshop.tracking.collector import CollectResult, collect
from socialshop.tracking.validation import MAX_BODY_BYTES

TAG_PATH = Path(__file__).resolve().parent.parent / "static" / "socialshop" / "tag.js"
GIF = base64.b64decode(b"R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
PIXEL_FIELDS = ("event_id", "name", "url", "referrer", "currency", "order_id", "search_string", "post_id", "tag_id")


@lru_cache(maxsize=1)
def tag_source() -> tuple[bytes, str]:
    """tag.js bytes and their version (a content hash, so a new release busts caches)."""
    data = TAG_PATH.read_bytes()
    return data, hashlib.sha256(data).hexdigest()[:12]


@require_GET
def tag_js(request: HttpRequest) -> HttpResponse:
    """The tag script; cached for a year when asked for by its current version (``?v=``)."""
    data, version = tag_source()
    response = HttpResponse(data, content_type="application/javascript; charset=utf-8")
    if request.GET.get("v") == version:
        response["Cache-Control"] = "public, max-age=31536000, immutable"
    else:
        response["Cache-Control"] = "public, max-age=300"
    response["ETag"] = f'"{version}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _respond(request: HttpRequest, result: CollectResult) -> HttpResponse:
    # The body is plain JSON types: orjson, without JsonResponse's encoder class (a tenth of the time).
    response = HttpResponse(orjson.dumps(result.body), content_type="application/json", status=result.status)
    for name, (value, max_age) in result.cookies.items():
        response.set_cookie(name, value, max_age=max_age, samesite="Lax", httponly=True, secure=request.is_secure())
    response["Cache-Control"] = "no-store"
    return response


@csrf_exempt
@require_http_methods(["POST"])
def collect_view(request: HttpRequest) -> HttpResponse:
    """POST /socialshop/collect/: ``{"events": [...]}`` as application/json or text/plain (beacon).

    The body must come uncompressed (``Content-Encoding`` other than identity: 415) and with a
    ``Content-Length`` (a chunked body without one: 411), as fetch, XHR and sendBeacon send it:
    a WSGI application cannot read a chunked body portably, and a compressed one would dodge the
    64 KiB limit. Every other answer is in docs/tracking.md.
    """
    content_type = request.META.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
    if content_type not in ("application/json", "text/plain"):
        return JsonResponse({"error": "send application/json or text/plain"}, status=415)
    encoding = request.META.get("HTTP_CONTENT_ENCODING", "").strip().lower()
    if encoding not in ("", "identity"):
        return JsonResponse({"error": f"Content-Encoding {encoding[:40]!r} is not supported; send the body "
                                      "uncompressed (at most 64 KiB)"}, status=415)
    length = request.META.get("CONTENT_LENGTH", "")
    if not length:
        chunked = "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
        return JsonResponse({"error": "Content-Length required: " + ("a chunked body is not read; " if chunked else "")
                                      + "send the body with a Content-Length header"}, status=411)
    try:
        declared = int(length)
    except ValueError:
        return JsonResponse({"error": f"Content-Length {length[:40]!r} is not a number"}, status=400)
    if declared > MAX_BODY_BYTES:
        return JsonResponse({"error": f"body larger than {MAX_BODY_BYTES} bytes"}, status=413)
    raw = request.read(MAX_BODY_BYTES + 1)
    if len(raw) > MAX_BODY_BYTES:
        return JsonResponse({"error": f"body larger than {MAX_BODY_BYTES} bytes"}, status=413)
    return _respond(request, collect(request, raw))


@require_GET
def pixel_view(request: HttpRequest) -> HttpResponse:
    """GET /socialshop/pixel.gif?name=...: always the GIF; the event is stored only when valid.

    Query: the EVENT fields, ``content_ids`` comma-separated; ``event_id``, ``time`` and ``url``
    default to a new id, now and the Referer header.
    """
    from socialshop.privacy.consent import new_id

    query = request.GET
    event: dict[str, object] = {key: query[key] for key in PIXEL_FIELDS if query.get(key)}
    event.setdefault("event_id", new_id())
    event.setdefault("url", request.META.get("HTTP_REFERER", "")[:2048])
    try:
        event["time"] = float(query["time"]) if query.get("time") else time.time()
        if query.get("value"):
            event["value"] = float(query["value"])
    except ValueError:
        event["time"] = None  # rejected by validation below; the GIF is still served
    if query.get("content_ids"):
        event["content_ids"] = [part for part in query["content_ids"].split(",") if part]
    result = collect(request, json.dumps({"events": [event]}).encode(), source="pixel")
    response = HttpResponse(GIF, content_type="image/gif")
    for name, (value, max_age) in result.cookies.items():
        response.set_cookie(name, value, max_age=max_age, samesite="Lax", httponly=True, secure=request.is_secure())
    response["Cache-Control"] = "no-store"
    return response
