"""Per-client rate limits for storefront writes (customer photo uploads, comments), kept in Django's cache.

Limits come from POST_UPLOADS_PER_HOUR and COMMENTS_PER_HOUR; views call ``allow`` before saving.
"""
from __future__ import annotations

import time

from django.core.cache import cache
from django.http import HttpRequest

from socialshop.privacy.ip import ip_digest


def client_key(request: HttpRequest) -> str:
    """A keyed hash of the client's IP address (privacy/ip.py); the raw address is never stored."""
    return ip_digest(request.META.get("REMOTE_ADDR", "")) or "unknown"


def allow(request: HttpRequest, kind: str, *, per_hour: int) -> bool:
    """Count one ``kind`` action for this client; False once it did more than ``per_hour`` this hour."""
    hour = int(time.time() // 3600)
    key = f"socialshop:posts:{kind}:{client_key(request)}:{hour}"
    cache.add(key, 0, timeout=3700)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=3700)
        count = 1
    return count <= per_hour
