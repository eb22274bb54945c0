"""The audience-upload capability (customer lists): ``AudienceUploads`` and the records that cross it.

audiences/sync.py queues membership changes and sends them through the delivery engine; each
platform's class says how a list is created, how members are added and removed, in which batch
sizes, and which hashed identifiers it takes. Website (pixel-based) twins and lookalikes are their
own capabilities (``WebsiteAudiences``, ``Lookalikes``): a platform without them raises
``UnsupportedFeature`` and admin says so.
"""
from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, ClassVar, NamedTuple

from socialshop.platforms.base import Capability
from socialshop.platforms.events import SendResult

# A platform that can only create a list together with its first members (TikTok: from a file) returns a
# placeholder from ``create_audience`` and names the new list's id under this key in that first add's answer;
# audiences/sync.py then keeps it as the destination's remote id.
CREATED_ID_KEY = "created_audience_id"


class Member(NamedTuple):
    """One person as an audience upload sends them: our key and their SHA-256 identifiers.

    ``hashes`` uses the storage keys of privacy/hashing.py (em, em_google, ph, ph_e164, fn, ln, ct,
    st, zp, country, external_id); only hashes ever reach this record. A tuple: a sync builds one per
    member, and a frozen dataclass cost three times as much to build (bench/audiences.py).
    """

    key: str
    hashes: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class WebsiteRule:
    """A rule the platform can keep on its own pixel data (the pixel-based twin of an audience).

    ``events``: our event names that qualify; ``exclude_events``: our event names that take a person
    out (a purchase after a cart); ``content_ids``: only those products; ``retention_days``: how long
    the platform keeps a person after the action.
    """

    events: tuple[str, ...]
    retention_days: int
    content_ids: tuple[str, ...] = ()
    exclude_events: tuple[str, ...] = ()
    exclude_retention_days: int = 0


class AudienceUploads(Capability):
    """Customer-list audiences: create one, then add and remove hashed members in batches."""

    kind: ClassVar[str] = "audiences"
    label: ClassVar[str] = "audience uploads"
    opt_in: ClassVar[bool] = True
    # Members per add call, and per removal call (some APIs fail on large removals).
    batch_limit: ClassVar[int]
    remove_batch_limit: ClassVar[int]
    # The smallest list the platform serves ads to; smaller audiences are not uploaded.
    min_size: ClassVar[int]
    # Our hash keys the platform matches on; a member with none of them is not matchable there.
    identifier_keys: ClassVar[tuple[str, ...]]

    # Other hash keys an upload carries besides those it matches on (Meta's multi-key schema sends names too).
    extra_sent_keys: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def sent_keys(cls) -> tuple[str, ...]:
        """Our hash keys an upload carries: those it matches on and any others its schema sends."""
        return tuple(dict.fromkeys((*cls.identifier_keys, *cls.extra_sent_keys)))

    def matchable(self, hashes: Mapping[str, str]) -> bool:
        """Whether a member with these hashes can be matched by this platform."""
        return any(hashes.get(k) for k in self.identifier_keys)

    @abc.abstractmethod
    def create_audience(self, name: str, *, description: str = "") -> str:
        """Create an empty customer-list audience named ``name``; returns the platform's id for it."""

    @abc.abstractmethod
    def add_members(self, audience_id: str, members: Sequence[Member]) -> SendResult:
        """Add one batch (at most ``batch_limit``); ``rejected`` keyed by ``Member.key`` where the platform says."""

    @abc.abstractmethod
    def remove_members(self, audience_id: str, members: Sequence[Member]) -> SendResult:
        """Remove one batch (at most ``remove_batch_limit``)."""

    def export_row(self, member: Member) -> dict[str, str]:
        """One row of the hashed CSV export in this platform's upload schema (column -> hash)."""
        return {k: member.hashes.get(k, "") for k in self.identifier_keys}


class WebsiteAudiences(Capability):
    """Pixel-based audiences the platform keeps itself from a rule on our pixel's events."""

    kind: ClassVar[str] = "website_audiences"
    label: ClassVar[str] = "website audiences"
    opt_in: ClassVar[bool] = True

    @abc.abstractmethod
    def create_website_audience(self, name: str, rule: WebsiteRule) -> str:
        """Create the platform-side twin of a rule; returns its id."""

    @abc.abstractmethod
    def update_website_audience(self, audience_id: str, rule: WebsiteRule) -> None:
        """Bring an existing twin's rule in step with ours."""


class Lookalikes(Capability):
    """Lookalike (Meta), actalike (Pinterest) audiences expanded by the platform from a seed list."""

    kind: ClassVar[str] = "lookalikes"
    label: ClassVar[str] = "lookalike audiences"
    opt_in: ClassVar[bool] = True

    @abc.abstractmethod
    def create_lookalike(self, name: str, *, seed_audience_id: str, country: str, size: float) -> str:
        """Create an expansion of the seed list in ``country``; ``size`` is the share of the country (0.01 = 1 %)."""


def answer_counts(answer: Any, *keys: str) -> dict[str, Any]:
    """The counters a platform's answer carries (received, invalid, matched range), for admin's per-batch result."""
    if not isinstance(answer, dict):
        return {}
    return {k: answer[k] for k in keys if k in answer}
