"""Set-up and health per platform: record successes, errors and credential halts; send a test event.

The rows are ``PlatformStatus`` (platforms/models.py); forwarding calls these, admin shows them.
"""
from __future__ import annotations

import hashlib
import json
import secrets
import time

from django.utils import timezone

from socialshop.platforms import get_platform
from socialshop.platforms.base import HttpPlatform, Platform, SendResult, ServerEvent
from socialshop.platforms.hashing import hash_user_data
from socialshop.platforms.models import PlatformStatus


def credentials_fingerprint(platform: Platform) -> str:
    """Digest of the settings that authenticate (required keys and api_base); changes when they are fixed."""
    values = {k: str(platform.config.get(k, "")) for k in (*platform.required_settings, "api_base")}
    return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()


def halted_reason(platform: Platform) -> str | None:
    """The refused-credentials error when forwarding to ``platform`` is halted, else None.

    A halt lasts until the credentials change (or an admin resumes the platform).
    """
    row = PlatformStatus.objects.filter(slug=platform.slug).only("halted_at", "halted_fingerprint", "last_error").first()
    if row and row.halted_at and row.halted_fingerprint == credentials_fingerprint(platform):
        return row.last_error or "credentials refused"
    return None


def record_success(slug: str) -> None:
    """Note that ``slug`` accepted a batch now (which also ends a credential halt: they work again)."""
    now = timezone.now()
    if not PlatformStatus.objects.filter(slug=slug).update(last_success_at=now, updated_at=now, halted_at=None, halted_fingerprint=""):
        PlatformStatus.objects.get_or_create(slug=slug, defaults={"last_success_at": now})


def record_error(platform: Platform, message: str, *, halt: bool = False) -> None:
    """Note the platform's error; ``halt`` stops forwarding until its credentials change."""
    now = timezone.now()
    fields = {"last_error": message[:2000], "last_error_at": now, "updated_at": now}
    if halt:
        fields.update(halted_at=now, halted_fingerprint=credentials_fingerprint(platform))
    if not PlatformStatus.objects.filter(slug=platform.slug).update(**fields):
        PlatformStatus.objects.get_or_create(slug=platform.slug, defaults={k: v for k, v in fields.items() if k != "updated_at"})


def resume(slugs: list[str]) -> int:
    """Clear the credential halt of ``slugs`` (admin action); returns how many were halted."""
    return PlatformStatus.objects.filter(slug__in=slugs, halted_at__isnull=False).update(halted_at=None, halted_fingerprint="")


def test_server_event() -> ServerEvent:
    """A harmless ViewContent carrying a hashed test email, for set-up checks."""
    return ServerEvent(
        event_id=f"socialshop-test-{secrets.token_hex(8)}", name="ViewContent", time=int(time.time()),
        url="https://example.com/socialshop-test", visitor_id=f"ss-test-{secrets.token_hex(4)}", ip="127.0.0.1",
        user_agent="socialshop test event", content_ids=("socialshop-test",),
        user_data=hash_user_data({"email": "test@example.com", "external_id": "socialshop-test"}), source="server",
    )


def send_test_event(slug: str) -> SendResult:
    """Send one event to ``slug`` in the platform's test mode and record the answer.

    Raises ``ConfigurationError`` (unknown platform, missing credential or test code) or
    ``PlatformAPIError`` with the platform's message.
    """
    platform = get_platform(slug)
    try:
        result = platform.send_events([test_server_event()], test=True)
    except Exception as exc:
        record_error(platform, f"test event: {exc}")
        raise
    finally:
        if isinstance(platform, HttpPlatform):
            platform.close()
    now = timezone.now()
    answer = json.dumps(result.response, default=str)[:2000] if result.response is not None else f"HTTP {result.status}"
    PlatformStatus.objects.update_or_create(slug=slug, defaults={"test_event_at": now, "test_event_response": answer})
    return result
