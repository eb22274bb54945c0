"""Pinterest audiences: customer lists (and the CUSTOMER_LIST audience ads target), visitor (tag) twins
and actalikes, through the v5 API with an OAuth token of its own (``audiences_access_token``).

Facts from reference/platforms.md section F and Pinterest's v5 OpenAPI models (``CustomerListRequest``,
``CustomerListUpdateRequest``, ``AudienceCreateRequest``, ``AudienceRule``); docs/platforms/pinterest.md.
"""
from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from django.core.checks import Error, Warning

from socialshop.exceptions import UnsupportedFeature
from socialshop.platforms.audiences import AudienceUploads, Lookalikes, Member, WebsiteAudiences, WebsiteRule
from socialshop.platforms.events import SendResult
from socialshop.platforms.http import ApiCall, PlatformAPIError

# Pinterest: customer-list records are one email hash per person (list_type EMAIL takes SHA-256 hex).
LIST_TYPE = "EMAIL"
# Pinterest requires records when a list is created; socialshop creates it with this one address,
# which no Pinterest account can have (the .invalid TLD is reserved, RFC 2606), and removes it at once.
PLACEHOLDER = hashlib.sha256(b"socialshop-new-list@socialshop.invalid").hexdigest()
# Our event names -> the Pinterest tag event a VISITOR rule names (AudienceRule.event). InitiateCheckout
# has no rule event on Pinterest, so checkout abandoners get no twin there.
RULE_EVENTS: dict[str, str] = {
    "ViewContent": "pagevisit", "AddToCart": "addtocart", "Purchase": "checkout", "Search": "search",
    "Lead": "lead", "CompleteRegistration": "signup",
}
# Pinterest: a VISITOR audience keeps people 1-540 days; an actalike is 1-10 % of the country.
MAX_RETENTION_DAYS = 540
ACTALIKE_PERCENT = (1, 10)


def split_remote_id(remote_id: str) -> tuple[str, str]:
    """(customer list id, audience id) from the ``<list id>:<audience id>`` this module returns on create."""
    list_id, _, audience_id = remote_id.partition(":")
    if not list_id or not audience_id:
        raise PlatformAPIError("Pinterest", f"remote id {remote_id!r} is not '<customer list id>:<audience id>'")
    return list_id, audience_id


class PinterestAudienceCalls:
    """The ad account, the audiences token and the call every Pinterest audience capability makes."""

    # ad_account_id is shared with events; audiences_access_token (an OAuth token with ads:write: the
    # Conversions API token does not reach these endpoints) is the opt-in key.
    required_settings: ClassVar[tuple[str, ...]] = ("ad_account_id", "audiences_access_token")

    def account_path(self, tail: str) -> str:
        return f"/v5/ad_accounts/{self.setting('ad_account_id')}/{tail}"  # type: ignore[attr-defined]

    def api(self, method: str, tail: str, body: dict[str, Any]) -> dict[str, Any]:
        token = self.setting("audiences_access_token")  # type: ignore[attr-defined]
        status, answer = self.call(ApiCall(method, self.account_path(tail),  # type: ignore[attr-defined]
                                           headers={"Authorization": f"Bearer {token}"}, body=body))
        if not isinstance(answer, dict):
            raise PlatformAPIError(self.name, f"unexpected answer {answer!r}", status=status, retryable=True)  # type: ignore[attr-defined]
        return answer

    def created_id(self, answer: dict[str, Any]) -> str:
        if not answer.get("id"):
            raise PlatformAPIError(self.name, f"no id in {answer!r}", retryable=True)  # type: ignore[attr-defined]
        return str(answer["id"])


class PinterestAudiences(PinterestAudienceCalls, AudienceUploads):
    """Customer lists: create, then PATCH ADD/REMOVE; ads target the CUSTOMER_LIST audience made from it."""

    # Pinterest documents no per-request record limit (reference F: unconfirmed); 10,000 hashes is a
    # ~650 KB body, the size Meta accepts, well under what large-file uploads are for.
    batch_limit: ClassVar[int] = 10_000
    remove_batch_limit: ClassVar[int] = 10_000
    min_size: ClassVar[int] = 100  # Pinterest: a list needs >= 100 Pinterest accounts
    identifier_keys: ClassVar[tuple[str, ...]] = ("em",)

    @classmethod
    def check_values(cls, entry: Mapping[str, Any], key: str) -> list[Any]:
        """socialshop.E172: ``ad_account_id`` is digits; W173: no ``tag_id``, so no visitor twins."""
        out: list[Any] = []
        account = entry.get("ad_account_id")
        if account not in (None, "") and not str(account).isdigit():
            out.append(Error(f"{key}['ad_account_id'] = {account!r} is not a Pinterest ad account id",
                             hint="Use the digits from Ads Manager's URL, e.g. '549755885175'.", id="socialshop.E172"))
        if entry.get("tag_id") in (None, ""):
            out.append(Warning(f"{key}['tag_id'] is not set: Pinterest audiences upload lists but make no visitor twins",
                               hint="Set the Pinterest tag id to let Pinterest keep visitor audiences itself.", id="socialshop.W173"))
        return out

    def create_audience(self, name: str, *, description: str = "") -> str:
        """Create the list (with the placeholder, removed at once) and its CUSTOMER_LIST audience: ``<list id>:<audience id>``."""
        listed = self.api("POST", "customer_lists", {"name": name[:255], "records": PLACEHOLDER, "list_type": LIST_TYPE})
        list_id = self.created_id(listed)
        self.api("PATCH", f"customer_lists/{list_id}", {"operation_type": "REMOVE", "records": PLACEHOLDER})
        audience = self.api("POST", "audiences", {
            "name": name[:255], "audience_type": "CUSTOMER_LIST", "rule": {"customer_list_id": list_id},
            "description": description[:255]})
        return f"{list_id}:{self.created_id(audience)}"

    def _update(self, operation: str, audience_id: str, members: Sequence[Member]) -> SendResult:
        list_id, _ = split_remote_id(audience_id)
        records = ",".join(m.hashes["em"] for m in members)
        answer = self.api("PATCH", f"customer_lists/{list_id}", {"operation_type": operation, "records": records})
        return SendResult(self.slug, len(members), answer, 200)

    def add_members(self, audience_id: str, members: Sequence[Member]) -> SendResult:
        return self._update("ADD", audience_id, members)

    def remove_members(self, audience_id: str, members: Sequence[Member]) -> SendResult:
        return self._update("REMOVE", audience_id, members)


class PinterestVisitorAudiences(PinterestAudienceCalls, WebsiteAudiences):
    """VISITOR audiences on the Pinterest tag: one tag event (or every visitor), no exclusions, no product filter.

    Needs the browser tag's ``tag_id`` too (``ConfigurationError`` naming it when missing): it is not a
    required key here so that a store uploading lists without the tag still passes ``manage.py check``.
    """

    def rule(self, rule: WebsiteRule) -> dict[str, Any]:
        """The AudienceRule for ``rule``; ``UnsupportedFeature`` for what a VISITOR rule cannot say."""
        if rule.exclude_events:
            raise UnsupportedFeature(self.name, "website audiences that exclude an action (one tag event, no exclusions)")
        if rule.content_ids:
            raise UnsupportedFeature(self.name, "website audiences of chosen products (no product filter on visitors)")
        events = [e for e in rule.events if e != "PageView"]
        if len(events) > 1 or any(e not in RULE_EVENTS for e in events):
            raise UnsupportedFeature(self.name, f"website audiences of {', '.join(rule.events)} (one of: {', '.join(RULE_EVENTS)})")
        out: dict[str, Any] = {
            "visitor_source_id": [str(self.setting("tag_id"))], "retention_days": min(rule.retention_days, MAX_RETENTION_DAYS),
            "event_source": {"=": ["web"]}, "ingestion_source": {"=": ["tag", "conversions_api"]}, "prefill": True,
        }
        if events:
            out["event"] = RULE_EVENTS[events[0]]
        return out

    def create_website_audience(self, name: str, rule: WebsiteRule) -> str:
        answer = self.api("POST", "audiences", {"name": name[:255], "audience_type": "VISITOR", "rule": self.rule(rule)})
        return self.created_id(answer)

    def update_website_audience(self, audience_id: str, rule: WebsiteRule) -> None:
        self.api("PATCH", f"audiences/{audience_id}", {"operation_type": "UPDATE", "rule": self.rule(rule)})


class PinterestActalikes(PinterestAudienceCalls, Lookalikes):
    """ACTALIKE audiences seeded by the CUSTOMER_LIST audience."""

    def create_lookalike(self, name: str, *, seed_audience_id: str, country: str, size: float) -> str:
        # Pinterest: percentage is a whole 1-10 % of the country's Pinterest users.
        low, high = ACTALIKE_PERCENT
        percentage = min(max(round(size * 100), low), high)
        _, seed = split_remote_id(seed_audience_id)
        answer = self.api("POST", "audiences", {
            "name": name[:255], "audience_type": "ACTALIKE",
            "rule": {"seed_id": [seed], "country": country.upper(), "percentage": percentage}})
        return self.created_id(answer)
