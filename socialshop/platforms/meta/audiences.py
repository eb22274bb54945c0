"""Meta Custom Audiences from a customer list, their website (pixel) twins and lookalikes.

Facts from reference/platforms.md section F: create with customer_file_source, one fixed multi-key
schema for every add and remove (an audience first filled multi-key refuses other schemas, #2650),
at most 10,000 rows a call, removals in chunks of about 1,000. Error codes: a flagged audience
(100/1713230) waits and is retried later; a schema refusal (#2650) fails the batch's rows at once
(bisecting cannot help: every row carries the same schema).
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import partial
from operator import itemgetter, or_
from typing import Any, ClassVar

from django.core.checks import Error

from socialshop.platforms.audiences import AudienceUploads, Lookalikes, Member, WebsiteAudiences, WebsiteRule
from socialshop.platforms.events import SendResult
from socialshop.platforms.http import ApiCall, PlatformAPIError
from socialshop.platforms.meta.events import EVENT_NAMES
from socialshop.platforms.meta.graph import GraphApi, graph_error

# Meta: the fixed multi-key schema, in this order for every add and remove of an audience; "" for a missing key.
SCHEMA: tuple[tuple[str, str], ...] = (
    ("EXTERN_ID", "external_id"), ("EMAIL", "em"), ("PHONE", "ph"), ("FN", "fn"), ("LN", "ln"),
    ("CT", "ct"), ("ST", "st"), ("ZIP", "zp"), ("COUNTRY", "country"),
)
THEIRS, OURS = (tuple(column) for column in zip(*SCHEMA))
# A member's hashes laid over a blank row (``or_``: any mapping, Member's default too), read in schema order.
_OVER_BLANK, _ROW, _HASHES = partial(or_, dict.fromkeys(OURS, "")), itemgetter(*OURS), itemgetter(1)  # _HASHES: Member.hashes
# Meta: website audiences keep people at most 180 days.
MAX_RETENTION_DAYS = 180
# Meta: a lookalike is 1-20 % of the country, in steps of 1 %.
LOOKALIKE_RATIO = (0.01, 0.20)
# Meta: 100/1713230, the audience is flagged (names or make-up suggesting health or finances, since
# 2025-09); edits fail until someone resolves it in Ads Manager, so the rows wait an hour between tries
# (the engine's longest backoff) and fail with this message after FORWARD_MAX_ATTEMPTS.
FLAGGED = (100, 1713230)
FLAGGED_RETRY_SECONDS = 3600
SCHEMA_LOCKED = 2650


class MetaAudienceCalls(GraphApi):
    """The ad account's settings and the Graph call every Meta audience capability makes."""

    required_settings: ClassVar[tuple[str, ...]] = ("ad_account_id", "access_token")

    def account_path(self, tail: str) -> str:
        account = str(self.setting("ad_account_id")).removeprefix("act_")  # type: ignore[attr-defined]
        return self.graph_path(f"act_{account}/{tail}")

    def graph_call(self, method: str, path: str, body: Any) -> Any:
        try:
            status, answer = self.call(ApiCall(method, path, params={"access_token": str(self.setting("access_token"))},  # type: ignore[attr-defined]
                                               body=body))
        except PlatformAPIError as exc:
            if graph_error(exc.body) == FLAGGED:
                raise PlatformAPIError(
                    exc.platform, f"audience flagged by Meta, resolve it in Ads Manager: {exc.message}", status=exc.status,
                    retryable=True, retry_after=FLAGGED_RETRY_SECONDS, body=exc.body) from exc
            raise
        if not isinstance(answer, dict):
            raise PlatformAPIError(self.name, f"unexpected answer {answer!r}", status=status, retryable=True)  # type: ignore[attr-defined]
        return answer

    def created_id(self, answer: dict[str, Any]) -> str:
        if not answer.get("id"):
            raise PlatformAPIError(self.name, f"no id in {answer!r}", retryable=True)  # type: ignore[attr-defined]
        return str(answer["id"])


class MetaAudiences(MetaAudienceCalls, AudienceUploads):
    @classmethod
    def check_values(cls, entry: Mapping[str, Any], key: str) -> list[Any]:
        """socialshop.E170: ``ad_account_id`` is ``act_`` and digits, or digits (every audience call names it)."""
        value = entry.get("ad_account_id")
        if value in (None, "") or re.fullmatch(r"(act_)?[0-9]+", str(value)):
            return []
        return [Error(f"{key}['ad_account_id'] = {value!r} is not a Meta ad account id",
                      hint="Use the number from Ads Manager, e.g. 'act_1234567890' or '1234567890'.", id="socialshop.E170")]

    batch_limit: ClassVar[int] = 10_000  # Meta: at most 10,000 rows a request
    remove_batch_limit: ClassVar[int] = 1_000  # Meta: large DELETE bodies have failed; ~1,000 a call
    min_size: ClassVar[int] = 100  # Meta: lists under 100 matched people are not served
    identifier_keys: ClassVar[tuple[str, ...]] = ("em", "ph", "external_id")
    extra_sent_keys: ClassVar[tuple[str, ...]] = tuple(ours for _, ours in SCHEMA)  # the fixed multi-key schema

    def create_audience(self, name: str, *, description: str = "") -> str:
        # Meta: keep names neutral (audiences suggesting health or finances are flagged since 2025-09).
        answer = self.graph_call("POST", self.account_path("customaudiences"), {
            "name": name[:200], "subtype": "CUSTOM", "customer_file_source": "USER_PROVIDED_ONLY",
            "description": description[:500]})
        return self.created_id(answer)

    def payload(self, members: Sequence[Member]) -> dict[str, Any]:
        # Each row: the member's hashes over a blank for every schema key, read in schema order; C-level passes
        # (map), as a Python loop per member cost more than hashing its identifiers (bench/audiences.py).
        rows = map(_ROW, map(_OVER_BLANK, map(_HASHES, members)))
        return {"payload": {"schema": list(THEIRS), "data": list(map(list, rows))}}

    def _send(self, method: str, audience_id: str, members: Sequence[Member]) -> SendResult:
        try:
            answer = self.graph_call(method, self.graph_path(f"{audience_id}/users"), self.payload(members))
        except PlatformAPIError as exc:
            if graph_error(exc.body)[0] != SCHEMA_LOCKED:
                raise
            # Every row of the batch has the refused schema: fail them all with Meta's words, no bisection.
            why = f"schema refused by Meta (#2650): {exc.message}"
            return SendResult(self.slug, 0, exc.body, exc.status or 400, {m.key: why for m in members})
        received = int(answer.get("num_received", len(members)))
        return SendResult(self.slug, received, answer, 200)

    def add_members(self, audience_id: str, members: Sequence[Member]) -> SendResult:
        return self._send("POST", audience_id, members)

    def remove_members(self, audience_id: str, members: Sequence[Member]) -> SendResult:
        return self._send("DELETE", audience_id, members)

    def export_row(self, member: Member) -> dict[str, str]:
        return {theirs: member.hashes.get(ours, "") for theirs, ours in SCHEMA}


def _rules(source: list[dict[str, str]], names: Sequence[str], content_ids: Sequence[str], days: int) -> dict[str, Any]:
    """One rule per event (Meta: "or" of rules), each filtered to the products when given."""
    rules = []
    for name in names:
        filters: list[dict[str, Any]] = [{"field": "event", "operator": "eq", "value": EVENT_NAMES[name]}]
        if content_ids:
            filters.append({"field": "content_ids", "operator": "is_any", "value": list(content_ids)})
        rules.append({"event_sources": source, "retention_seconds": min(days, MAX_RETENTION_DAYS) * 86400,
                      "filter": {"operator": "and", "filters": filters}})
    return {"operator": "or", "rules": rules}


class MetaWebsiteAudiences(MetaAudienceCalls, WebsiteAudiences):
    required_settings: ClassVar[tuple[str, ...]] = ("ad_account_id", "access_token", "pixel_id")

    def rule(self, rule: WebsiteRule) -> dict[str, Any]:
        source = [{"id": str(self.setting("pixel_id")), "type": "pixel"}]
        spec: dict[str, Any] = {"inclusions": _rules(source, rule.events, rule.content_ids, rule.retention_days)}
        if rule.exclude_events:
            spec["exclusions"] = _rules(source, rule.exclude_events, (), rule.exclude_retention_days or rule.retention_days)
        return spec

    def create_website_audience(self, name: str, rule: WebsiteRule) -> str:
        # Meta: website audiences take no subtype (since 2018); prefill fills them from past pixel data.
        answer = self.graph_call("POST", self.account_path("customaudiences"),
                                 {"name": name[:200], "prefill": True, "rule": self.rule(rule)})
        return self.created_id(answer)

    def update_website_audience(self, audience_id: str, rule: WebsiteRule) -> None:
        self.graph_call("POST", self.graph_path(audience_id), {"rule": self.rule(rule)})


class MetaLookalikes(MetaAudienceCalls, Lookalikes):
    def create_lookalike(self, name: str, *, seed_audience_id: str, country: str, size: float) -> str:
        low, high = LOOKALIKE_RATIO
        ratio = round(min(max(size, low), high), 2)
        answer = self.graph_call("POST", self.account_path("customaudiences"), {
            "name": name[:200], "subtype": "LOOKALIKE", "origin_audience_id": seed_audience_id,
            "lookalike_spec": {"country": country.upper(), "ratio": ratio}})
        return self.created_id(answer)
