"""Fixed-window rate limits counted in Django's cache, so every server process shares one count.

The collector (tracking/collector.py) limits requests per client address with one. Counts are as
shared as the cache the host configures: Redis, Memcached or the database cache are shared;
LocMemCache counts per process and DummyCache not at all (``check --deploy`` warns: socialshop.W136).
"""
from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from functools import lru_cache

from django.core.cache import BaseCache, caches

from socialshop.conf import app_settings


@lru_cache(maxsize=4096)  # busy clients repeat; the key never holds the raw address
def _keyed(secret: str, key: str) -> str:
    return hmac.new(secret.encode(), key.encode(), hashlib.sha256).hexdigest()[:32]


class RateLimiter:
    """At most ``limit`` hits per key per window, counted with atomic ``cache.incr`` (``cache.add`` opens a window)."""

    def __init__(self, name: str, *, window_seconds: int = 60, cache_alias: str = "default") -> None:
        self.name = name
        self.window_seconds = window_seconds
        self.cache_alias = cache_alias
        self._generation = "0"

    @property
    def cache(self) -> BaseCache:
        return caches[self.cache_alias]

    def cache_key(self, key: str, *, now: float | None = None) -> str:
        """The cache key counting ``key`` in the current window (``key`` is stored only as a keyed hash)."""
        window = int((now if now is not None else time.time()) // self.window_seconds)
        digest = _keyed(str(app_settings.django("SECRET_KEY", "")), key)
        return f"socialshop:ratelimit:{self.name}:{self._generation}:{window}:{digest}"

    def hit(self, key: str, *, limit: int, now: float | None = None) -> bool:
        """Count one hit for ``key``; False when it is over ``limit`` in this window."""
        cache = self.cache
        cache_key = self.cache_key(key, now=now)
        timeout = self.window_seconds * 2
        try:
            count = cache.incr(cache_key)  # atomic on Redis, Memcached and the database cache
        except ValueError:  # the window's first hit: exactly one process creates the count (SET NX)
            if cache.add(cache_key, 1, timeout=timeout):
                count = 1
            else:  # another process created it just now
                try:
                    count = cache.incr(cache_key)
                except ValueError:  # ... and it expired already: this hit opens the count
                    cache.set(cache_key, 1, timeout=timeout)
                    count = 1
        return count <= limit

    def reset(self) -> None:
        """Start every count of this process's limiter afresh (tests; other processes keep theirs)."""
        self._generation = uuid.uuid4().hex[:8]
