"""The server-events capability (conversions APIs): ``EventsCapability`` and the records that cross it.

Platforms never see our models: tracking/outbox.py turns an Event into a ``ServerEvent``, and
tracking/forwarding.py sends them through the delivery engine (platforms/delivery.py).
"""
from __future__ import annotations

import abc
import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar

from socialshop.platforms.base import Capability


def valid_ip(value: str) -> str:
    """The address when it parses as an IP, else "" (IP_HANDLING='hash' stores a digest, never sent)."""
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return ""


@dataclass(frozen=True, slots=True)
class ServerEvent:
    """One event as the platforms need it; ``user_data`` holds only hashes (privacy/hashing.py)."""

    event_id: str
    name: str
    time: int
    url: str = ""
    referrer: str = ""
    visitor_id: str = ""
    ip: str = ""
    user_agent: str = ""
    content_ids: tuple[str, ...] = ()
    contents: tuple[Mapping[str, Any], ...] = ()
    value: Decimal | None = None
    currency: str = ""
    order_id: str = ""
    search_string: str = ""
    user_data: Mapping[str, str] = field(default_factory=dict)
    click_ids: Mapping[str, str] = field(default_factory=dict)
    browser_ids: Mapping[str, str] = field(default_factory=dict)
    source: str = "browser"  # browser, pixel, server or simulated (tracking's EventSource)


@dataclass(frozen=True, slots=True)
class SendResult:
    """A platform's answer to one batch: how many it took, its body, and per-record refusals (key -> message)."""

    platform: str
    sent: int
    response: Any
    status: int
    rejected: Mapping[str, str] = field(default_factory=dict)


def hashed_user_arrays(event: ServerEvent, keys: Mapping[str, str]) -> dict[str, Any]:
    """Meta/Pinterest-style ``user_data``: each hashed value as a one-item array under the
    platform's key (``keys``: ours -> theirs), plus the unhashed client IP and user agent."""
    user: dict[str, Any] = {theirs: [event.user_data[ours]] for ours, theirs in keys.items() if event.user_data.get(ours)}
    ip = valid_ip(event.ip)
    if ip:
        user["client_ip_address"] = ip
    if event.user_agent:
        user["client_user_agent"] = event.user_agent
    return user


class EventsCapability(Capability):
    """Server-to-server conversion events: event-name table, batch limit, time window, identity rules."""

    kind: ClassVar[str] = "events"
    label: ClassVar[str] = "server events"
    # our event name -> the platform's server event name; absent means "not mapped" (skipped).
    event_names: ClassVar[Mapping[str, str]]
    # Events per request the API takes.
    batch_limit: ClassVar[int]
    # Oldest event the API accepts, in seconds.
    max_event_age: ClassVar[int]
    # At least one of these groups of user_data/identity keys must be present, or the event is skipped.
    required_identity: ClassVar[tuple[frozenset[str], ...]] = ()

    def skip_reason(self, event: ServerEvent, *, now: float) -> str | None:
        """Why ``event`` must not be sent to this platform (simulated, not mapped, too old, no identity), or None."""
        if event.source == "simulated":
            return "simulated traffic: demo and benchmark events never reach a platform"
        if event.name not in self.event_names:
            return f"not mapped: {self.name} has no server event for {event.name}"
        age = now - event.time
        if age > self.max_event_age:
            return f"outside time window: {int(age // 3600)} h old, {self.name} accepts {self.max_event_age // 3600} h"
        if self.required_identity:
            present = {k for k, v in self.identity(event).items() if v}
            if not any(group <= present for group in self.required_identity):
                wanted = " or ".join("+".join(sorted(g)) for g in self.required_identity)
                return f"no identifier: {self.name} needs {wanted}"
        return None

    def identity(self, event: ServerEvent) -> dict[str, str]:
        """Every identifier the event carries, keyed as in ``required_identity``."""
        return {**event.user_data, "client_ip_address": event.ip, "client_user_agent": event.user_agent,
                **{k: v for k, v in event.browser_ids.items() if v}, **{k: v for k, v in event.click_ids.items() if v}}

    def batches(self, events: Sequence[ServerEvent]) -> list[list[ServerEvent]]:
        """Split ``events`` into request-sized groups (``batch_limit``); platforms may group otherwise."""
        return [list(events[i:i + self.batch_limit]) for i in range(0, len(events), self.batch_limit)]

    @abc.abstractmethod
    def send_events(self, events: Sequence[ServerEvent], *, test: bool = False) -> SendResult:
        """Send one batch (at most ``batch_limit`` events, already filtered by ``skip_reason``).

        ``test`` sends in the platform's test mode. Returns the platform's answer (``rejected``
        keyed by event_id); raises ``PlatformAPIError`` (retryable or not, auth or not) when the
        platform refuses or fails.
        """
