"""Serving feed files: GET /socialshop/feeds/<slug>.<xml|csv|tsv>?token=T (CONTRACT.md).

Serves the last published build only (never builds on request); 404 alike for an unknown slug, a
wrong token, another format or a disabled feed. ETag (content hash) and Last-Modified give 304s;
the file is gzip-compressed on the fly when the client asks. Admin pages are ``feeds/admin.py``.
"""
from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import IO

from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils.cache import get_conditional_response
from django.utils.crypto import constant_time_compare
from django.utils.http import http_date
from django.views.decorators.http import require_http_methods

from socialshop.feeds.models import Feed
from socialshop.feeds.publishing import feed_storage
from socialshop.feeds.writers import WRITERS

READ_BYTES = 64 * 1024


def wants_gzip(request: HttpRequest) -> bool:
    """True when Accept-Encoding lists gzip without q=0."""
    for part in request.META.get("HTTP_ACCEPT_ENCODING", "").split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() in ("gzip", "x-gzip"):
            quality = 1.0
            for param in params.split(";"):
                key, _, value = param.strip().partition("=")
                if key.lower() == "q":
                    try:
                        quality = float(value)
                    except ValueError:
                        quality = 0.0
            return quality > 0
    return False


def gzip_chunks(handle: IO[bytes]) -> Iterator[bytes]:
    """The file's bytes as a gzip stream, compressed chunk by chunk (flat memory)."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)
    try:
        while True:
            data = handle.read(READ_BYTES)
            if not data:
                break
            out = compressor.compress(data)
            if out:
                yield out
        yield compressor.flush()
    finally:
        handle.close()


@require_http_methods(["GET", "HEAD"])
def serve_feed(request: HttpRequest, *, slug: str, ext: str) -> HttpResponse:
    """The feed file of the last complete build, for the platform that holds the token."""
    token = request.GET.get("token", "")
    feed = Feed.objects.select_related("published_build").filter(slug=slug, enabled=True, file_format=ext).first()
    if feed is None or not token or not constant_time_compare(token, feed.token):
        raise Http404("No such feed.")
    build = feed.published_build
    if build is None or not build.file_name or not build.file_name.endswith(f".{ext}"):
        raise Http404("No such feed.")  # never built, or built before its format was changed
    gzip = wants_gzip(request)
    etag = f'"{build.content_hash}{"-gz" if gzip else ""}"'
    last_modified = int((build.finished_at or build.started_at).timestamp())
    headers = {
        "ETag": etag,
        "Last-Modified": http_date(last_modified),
        "Vary": "Accept-Encoding",
        "Cache-Control": "private, no-cache",
        "X-Robots-Tag": "noindex",
    }
    not_modified = get_conditional_response(request, etag=etag, last_modified=last_modified)
    if not_modified is not None:
        for key, value in headers.items():
            not_modified[key] = value
        return not_modified
    try:
        handle = feed_storage().open(build.file_name, "rb")
    except (FileNotFoundError, OSError):
        raise Http404("No such feed.") from None
    content_type = WRITERS[feed.file_format].content_type
    filename = f"{feed.slug}.{feed.file_format}"
    if gzip:
        response: HttpResponse = StreamingHttpResponse(gzip_chunks(handle), content_type=content_type)
        response["Content-Encoding"] = "gzip"
    else:
        response = FileResponse(handle, content_type=content_type)
        response["Content-Length"] = str(build.size_bytes)
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    for key, value in headers.items():
        response[key] = value
    return response
