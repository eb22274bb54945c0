"""What admin shows about an audience before anything is uploaded: the platforms that take audience
uploads with their facts, how many members each could match (over a bounded sample, identifiers as in
audiences/sync.py) and a sample of members with the action that qualified them, never raw PII.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from socialshop.audiences.models import Audience, AudienceMember
from socialshop.audiences.identity import identifiers, refresh_identity
from socialshop.audiences.sync import wanted_count
from socialshop.platforms import REGISTRY
from socialshop.platforms.audiences import AudienceUploads

# Members looked at for the matchable counts, and per identifiers() call.
MATCH_SAMPLE = 2000
MATCH_BATCH = 500
SAMPLE_ROWS = 20


@dataclass(frozen=True, slots=True)
class UploadFacts:
    """One platform's audience-upload facts, from its capability class (no settings needed)."""

    slug: str
    name: str
    min_size: int
    identifier_keys: tuple[str, ...]
    twins: bool
    lookalikes: bool


@dataclass(frozen=True, slots=True)
class Matchable:
    """Members a platform could match: counted in the sample, and extrapolated to the whole audience."""

    facts: UploadFacts
    in_sample: int
    estimate: int

    @property
    def below_minimum(self) -> bool:
        return self.estimate < self.facts.min_size


@dataclass(frozen=True, slots=True)
class MatchReport:
    size: int
    shareable: int
    sampled: int
    platforms: tuple[Matchable, ...]


@dataclass(frozen=True, slots=True)
class SampleMember:
    person: str
    reason: str
    qualified_at: datetime | None
    joined_at: datetime


def upload_platforms() -> list[UploadFacts]:
    """Every registered platform with audience uploads, in registry order."""
    out = []
    for slug, cls in REGISTRY.items():
        uploads = cls.capabilities.get("audiences")
        if uploads is None or not issubclass(uploads, AudienceUploads):
            continue
        out.append(UploadFacts(slug, cls.name, int(uploads.min_size), tuple(uploads.identifier_keys),
                               "website_audiences" in cls.capabilities, "lookalikes" in cls.capabilities))
    return out


def short_person(person: str) -> str:
    """A member's key shortened for display: the kind and the first characters of a hash or visitor id."""
    kind, _, rest = person.partition(":")
    if kind in ("u", "l"):
        return person  # an account or list-row number, not personal data by itself
    return f"{kind}:{rest[:8]}…" if len(rest) > 8 else person


def match_report(audience: Audience, *, sample: int = MATCH_SAMPLE) -> MatchReport:
    """Current size, members whose consent allows sharing, and per platform the members with an identifier it takes.

    Counted over the ``sample`` most recent members (``identifiers`` in batches), extrapolated to the size.
    """
    rows = list(AudienceMember.objects.filter(audience=audience, left_at__isnull=True)
                .order_by("-joined_at", "-pk").only("person", "visitor_id", "user_id")[:sample])
    size = AudienceMember.objects.filter(audience=audience, left_at__isnull=True).count() if len(rows) == sample else len(rows)
    hashes: dict[str, dict[str, str]] = {}
    if rows:
        refresh_identity()
    for start in range(0, len(rows), MATCH_BATCH):
        hashes.update(identifiers(rows[start:start + MATCH_BATCH]))
    platforms = []
    for facts in upload_platforms():
        found = sum(1 for h in hashes.values() if any(h.get(k) for k in facts.identifier_keys))
        estimate = round(found * size / len(rows)) if rows else 0
        platforms.append(Matchable(facts, found, estimate))
    return MatchReport(size, wanted_count(audience) if rows else 0, len(rows), tuple(platforms))


def sample_members(audience: Audience, *, limit: int = SAMPLE_ROWS) -> list[SampleMember]:
    """The most recent current members with why and when they qualified (person keys shortened)."""
    rows = (AudienceMember.objects.filter(audience=audience, left_at__isnull=True).order_by("-joined_at", "-pk")
            .values_list("person", "reason", "qualified_at", "joined_at")[:limit])
    return [SampleMember(short_person(p), reason, qualified, joined) for p, reason, qualified, joined in rows]
