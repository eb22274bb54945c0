"""Rate limits hold across server processes: counts live in the cache the host configures
(core/ratelimit.py), not in one process's memory."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from socialshop.core.ratelimit import RateLimiter
from tests.conftest import REDIS_URL

ROOT = Path(__file__).resolve().parent.parent.parent
NOW = 1_800_000_030.0  # a fixed minute, so every process counts in the same window
FILE_CACHE = "django.core.cache.backends.filebased.FileBasedCache"


def shared_caches(settings: Any, location: str, *, backend: str = FILE_CACHE) -> None:
    """Two aliases, two cache clients on one shared store: two processes' view of it."""
    settings.CACHES = {alias: {"BACKEND": backend, "LOCATION": location} for alias in ("default", "other")}


def test_two_cache_clients_on_a_shared_cache_share_one_count(settings: Any, tmp_path: Path) -> None:
    shared_caches(settings, str(tmp_path / "cache"))
    first, second = RateLimiter("t", cache_alias="default"), RateLimiter("t", cache_alias="other")
    answers = [(first if i % 2 else second).hit("203.0.113.9", limit=4, now=NOW) for i in range(6)]
    assert answers == [True, True, True, True, False, False]
    assert RateLimiter("t").hit("198.51.100.1", limit=4, now=NOW)  # another client has its own count
    assert RateLimiter("t").hit("203.0.113.9", limit=4, now=NOW + 60)  # a new minute starts afresh


def test_a_second_process_sees_the_hits_of_the_first(settings: Any, tmp_path: Path) -> None:
    location = str(tmp_path / "cache")
    shared_caches(settings, location)
    script = textwrap.dedent(f"""
        import json, django
        from django.conf import settings
        settings.configure(SECRET_KEY={settings.SECRET_KEY!r},
                           CACHES={{"default": {{"BACKEND": {FILE_CACHE!r}, "LOCATION": {location!r}}}}})
        django.setup()
        from socialshop.core.ratelimit import RateLimiter
        print(json.dumps([RateLimiter("collect").hit("203.0.113.9", limit=5, now={NOW}) for _ in range(3)]))
    """)
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == [True, True, True]
    here = RateLimiter("collect")
    assert [here.hit("203.0.113.9", limit=5, now=NOW) for _ in range(3)] == [True, True, False]


def test_a_key_never_holds_the_raw_address() -> None:
    assert "203.0.113.9" not in RateLimiter("collect").cache_key("203.0.113.9", now=NOW)


@pytest.mark.worker
def test_limits_hold_across_clients_on_redis(settings: Any) -> None:
    shared_caches(settings, REDIS_URL, backend="django.core.cache.backends.redis.RedisCache")
    limiter = RateLimiter(f"redis-{time.time_ns()}")
    other = RateLimiter(limiter.name, cache_alias="other")
    answers = [(limiter if i % 2 else other).hit("203.0.113.9", limit=3) for i in range(5)]
    assert answers == [True, True, True, False, False]


@pytest.mark.django_db
def test_the_collector_answers_429_once_the_shared_count_is_over(settings: Any, tmp_path: Path) -> None:
    shared_caches(settings, str(tmp_path / "cache"))
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "COLLECT_RATE_LIMIT_PER_MINUTE": 3}
    from socialshop.tracking.collector import rate_limiter

    for _ in range(2):  # a minute boundary inside the test restarts the count: then try once more
        rate_limiter.reset()
        minute = int(time.time() // 60)
        # Another process already counted two requests of this address in this minute.
        other = RateLimiter(rate_limiter.name, cache_alias="other")
        other._generation = rate_limiter._generation
        other.hit("127.0.0.1", limit=3)
        other.hit("127.0.0.1", limit=3)
        client = Client()
        statuses = [client.post("/socialshop/collect/", data=b'{"events": []}', content_type="application/json").status_code
                    for _ in range(2)]
        if int(time.time() // 60) == minute:
            break
    assert statuses[0] != 429 and statuses[1] == 429
