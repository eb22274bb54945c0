"""Health per platform and capability: record successes, errors and credential halts; send a test event.

The rows are ``PlatformStatus`` (platforms/models.py); the delivery engine (platforms/delivery.py)
calls these, admin shows them. A halt is per capability: a refused audience token leaves events running.
"""
from __future__ import annotations

import hashlib
import json
import secrets
import time

from django.utils import timezone

from socialshop.core.db import writing
from socialshop.platforms import get_platform
from socialshop.platforms.base import Capability
from socialshop.platforms.events import SendResult, ServerEvent
from socialshop.privacy.hashing import hash_user_data
from socialshop.platforms.models import PlatformStatus


def credentials_fingerprint(capability: Capability) -> str:
    """Digest of the settings that authenticate ``capability``; changes when they are fixed."""
    return hashlib.sha256(json.dumps(capability.credential_values(), sort_keys=True).encode()).hexdigest()


def halted_reason(capability: Capability) -> str | None:
    """The refused-credentials error when ``capability`` is halted, else None.

    A halt lasts until the capability's credentials change (or an admin resumes it).
    """
    row = (PlatformStatus.objects.filter(slug=capability.slug, capability=capability.kind)
           .only("halted_at", "halted_fingerprint", "last_error").first())
    if row and row.halted_at and row.halted_fingerprint == credentials_fingerprint(capability):
        return row.last_error or "credentials refused"
    return None


def record_success(slug: str, kind: str) -> None:
    """Note that ``slug``'s ``kind`` capability succeeded now (which also ends a credential halt)."""
    now = timezone.now()
    if not PlatformStatus.objects.filter(slug=slug, capability=kind).update(
        last_success_at=now, updated_at=now, halted_at=None, halted_fingerprint="",
    ):
        PlatformStatus.objects.get_or_create(slug=slug, capability=kind, defaults={"last_success_at": now})


def record_error(capability: Capability, message: str, *, halt: bool = False) -> None:
    """Note the platform's error for ``capability``; ``halt`` stops it until its credentials change."""
    now = timezone.now()
    fields = {"last_error": message[:2000], "last_error_at": now, "updated_at": now}
    if halt:
        fields.update(halted_at=now, halted_fingerprint=credentials_fingerprint(capability))
    if not PlatformStatus.objects.filter(slug=capability.slug, capability=capability.kind).update(**fields):
        PlatformStatus.objects.get_or_create(slug=capability.slug, capability=capability.kind,
                                             defaults={k: v for k, v in fields.items() if k != "updated_at"})


def resume(pks: list[int]) -> int:
    """Clear the credential halt of the given status rows (admin action); returns how many were halted."""
    return PlatformStatus.objects.filter(pk__in=pks, halted_at__isnull=False).update(halted_at=None, halted_fingerprint="")


def test_server_event() -> ServerEvent:
    """A harmless ViewContent carrying a hashed test email, for set-up checks."""
    return ServerEvent(
        event_id=f"socialshop-test-{secrets.token_hex(8)}", name="ViewContent", time=int(time.time()),
        url="https://example.com/socialshop-test", visitor_id=f"ss-test-{secrets.token_hex(4)}", ip="127.0.0.1",
        user_agent="socialshop test event", content_ids=("socialshop-test",),
        user_data=hash_user_data({"email": "test@example.com", "external_id": "socialshop-test"}), source="server",
    )


def send_test_event(slug: str) -> SendResult:
    """Send one event to ``slug``'s server-events capability in its test mode and record the answer.

    Raises ``ConfigurationError`` (unknown platform, missing credential or test code),
    ``UnsupportedFeature`` (no server events) or ``PlatformAPIError`` with the platform's message.
    """
    events = get_platform(slug).events
    try:
        result = events.send_events([test_server_event()], test=True)
    except Exception as exc:
        record_error(events, f"test event: {exc}")
        raise
    finally:
        events.close()
    now = timezone.now()
    answer = json.dumps(result.response, default=str)[:2000] if result.response is not None else f"HTTP {result.status}"
    with writing():  # update_or_create reads, then writes (core/db.py)
        PlatformStatus.objects.update_or_create(slug=slug, capability=events.kind,
                                                defaults={"test_event_at": now, "test_event_response": answer})
    return result
