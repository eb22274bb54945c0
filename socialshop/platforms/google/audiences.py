"""Google Customer Match through the Data Manager API, on its own host with its own OAuth credentials.

Since 2026-04-01 the Google Ads API takes no new Customer Match integrations; the Data Manager API
creates the list (UserListService, v1.5 of 2026-02) and adds and removes members
(audienceMembers:ingest / :remove). Facts from reference/platforms.md section F; the decisions are in
docs/platforms/google.md (Audiences).
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from socialshop.platforms.audiences import AudienceUploads, Member
from socialshop.platforms.events import SendResult
from socialshop.platforms.google.oauth import DEFAULT_TOKEN_URL, OAuthCapability
from socialshop.privacy.hashing import email_hash_for
from socialshop.platforms.http import ApiCall, PlatformAPIError

# Data Manager: the account type of a Google Ads customer in destinations and resource names.
ACCOUNT_TYPE = "GOOGLE_ADS"
# Data Manager: consent per member; only members whose ads consent was granted reach an upload (audiences/sync.py).
GRANTED = {"adUserData": "CONSENT_GRANTED", "adPersonalization": "CONSENT_GRANTED"}
# Data Manager: membershipDuration is whole days; Customer Match keeps members at most 540 days.
MAX_MEMBERSHIP_DAYS = 540


CUSTOMER_ID_RE = re.compile(r"\d{3}-?\d{3}-?\d{4}")  # Google Ads: 10 digits, shown as 123-456-7890
URL_RE = re.compile(r"https?://[^/\s]+(/\S*)?")


def customer_id_problems(capability: Any, entry: Mapping[str, Any], key: str, names: Sequence[str], code: str) -> list[Any]:
    """The check errors (``code``) of the settings ``names`` that are set but are no Google Ads customer id."""
    return [capability.value_error(key, entry, name, "the 10-digit Google Ads customer id, e.g. '123-456-7890'", code)
            for name in names
            if entry.get(name) not in (None, "")
            and not (isinstance(entry.get(name), (str, int)) and CUSTOMER_ID_RE.fullmatch(str(entry.get(name))))]


def _days(value: Any, top: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= top


def customer_id(value: Any) -> str:
    """A Google Ads customer id as the API wants it: digits only ("123-456-7890" -> "1234567890")."""
    return str(value).replace("-", "").strip()


class GoogleAudiences(OAuthCapability, AudienceUploads):
    """Customer Match lists: created with userLists.create, filled with audienceMembers:ingest / :remove."""

    # Its own credentials (OAuth, not the GA4 api_secret) and account; any of them switches the capability on.
    required_settings: ClassVar[tuple[str, ...]] = (
        "operating_account_id", "oauth_client_id", "oauth_client_secret", "oauth_refresh_token",
    )
    optional_settings: ClassVar[tuple[str, ...]] = ("login_account_id", "oauth_token_url", "membership_days")
    default_api_base: ClassVar[str] = "https://datamanager.googleapis.com"
    batch_limit: ClassVar[int] = 10_000  # Data Manager: at most 10,000 AudienceMember a request
    remove_batch_limit: ClassVar[int] = 10_000  # the same limit applies to :remove
    min_size: ClassVar[int] = 100  # Google Ads: 100 active members to serve (third parties; unconfirmed)
    identifier_keys: ClassVar[tuple[str, ...]] = ("em_google", "em", "ph_e164")

    @classmethod
    def check_values(cls, entry: Mapping[str, Any], key: str) -> list[Any]:
        problems = customer_id_problems(cls, entry, key, ("operating_account_id", "login_account_id"), "socialshop.E175")
        if entry.get("membership_days") is not None and not _days(entry["membership_days"], MAX_MEMBERSHIP_DAYS):
            problems.append(cls.value_error(key, entry, "membership_days", f"whole days from 1 to {MAX_MEMBERSHIP_DAYS}", "socialshop.E176"))
        url = entry.get("oauth_token_url")
        if url is not None and not (isinstance(url, str) and URL_RE.fullmatch(url)):
            problems.append(cls.value_error(key, entry, "oauth_token_url", f"an absolute http(s) URL, or leave it out for {DEFAULT_TOKEN_URL}",
                             "socialshop.E177"))
        return problems

    # -- credentials ---------------------------------------------------------------------------------

    def credential_values(self) -> dict[str, str]:
        return {**super().credential_values(), "oauth_token_url": str(self.config.get("oauth_token_url") or "")}

    def authorised_call(self, api_call: ApiCall) -> Any:
        """Make ``api_call`` with a bearer token; a 401 refreshes the token once, a second 401 is a credential error."""
        token = self.tokens.token()
        try:
            return self._call_with(token, api_call)
        except PlatformAPIError as exc:
            if exc.status != 401:
                raise
            self.tokens.invalidate(token)  # expired or revoked early: one fresh token, then give up
        return self._call_with(self.tokens.token(), api_call)

    def _call_with(self, token: str, api_call: ApiCall) -> Any:
        return self.call(ApiCall(api_call.method, api_call.path, params=api_call.params, body=api_call.body,
                                 headers={**api_call.headers, "Authorization": f"Bearer {token}"}))[1]

    # -- accounts ------------------------------------------------------------------------------------
    def account(self, key: str) -> dict[str, str]:
        return {"accountType": ACCOUNT_TYPE, "accountId": customer_id(self.setting(key))}

    def destination(self, audience_id: str) -> dict[str, Any]:
        """The Destination of a request: the operating account, the list, and the manager account when set."""
        destination: dict[str, Any] = {"operatingAccount": self.account("operating_account_id"),
                                       "productDestinationId": str(audience_id)}
        if self.config.get("login_account_id"):
            destination["loginAccount"] = self.account("login_account_id")
        return destination

    # -- the capability ------------------------------------------------------------------------------
    def create_audience(self, name: str, *, description: str = "") -> str:
        """userLists.create: a first-party contact-info Customer Match list; returns its id."""
        parent = f"accountTypes/{ACCOUNT_TYPE}/accounts/{customer_id(self.setting('operating_account_id'))}"
        headers: dict[str, str] = {}
        if self.config.get("login_account_id"):
            # Data Manager: resource-management calls name the manager account in a header, not a destination.
            headers["login-account"] = f"accountTypes/{ACCOUNT_TYPE}/accounts/{customer_id(self.config['login_account_id'])}"
        days = min(int(self.config.get("membership_days") or MAX_MEMBERSHIP_DAYS), MAX_MEMBERSHIP_DAYS)
        body = {
            "displayName": name[:200], "description": description[:200], "membershipDuration": f"{days * 86400}s",
            "ingestedUserListInfo": {"uploadKeyTypes": ["CONTACT_ID"],
                                     "contactIdInfo": {"dataSourceType": "DATA_SOURCE_TYPE_FIRST_PARTY"}},
        }
        answer = self.authorised_call(ApiCall("POST", f"/v1/{parent}/userLists", headers=headers, body=body))
        list_id = answer.get("id") if isinstance(answer, dict) else None
        if not list_id and isinstance(answer, dict) and answer.get("name"):
            list_id = str(answer["name"]).rsplit("/", 1)[-1]
        if not list_id:
            raise PlatformAPIError(self.name, f"no user list id in {answer!r}"[:300], retryable=True)
        return str(list_id)

    def identifier_values(self, hashes: Mapping[str, str]) -> dict[str, str]:
        """Data Manager field -> our hash: the e-mail by Google's rule (``em_google`` for a gmail address with
        dots or a +suffix, else ``em``; privacy/hashing.py) and the phone in E.164 with '+' (``ph_e164``)."""
        values = {"emailAddress": email_hash_for(self.slug, hashes) or "", "phoneNumber": hashes.get("ph_e164") or ""}
        return {k: v for k, v in values.items() if v}

    def user_identifiers(self, hashes: Mapping[str, str]) -> list[dict[str, str]]:
        """Data Manager userIdentifiers: one object per identifier, hex SHA-256 values."""
        return [{field_name: value} for field_name, value in self.identifier_values(hashes).items()]

    def member(self, member: Member, *, consent: bool) -> dict[str, Any]:
        payload: dict[str, Any] = {"userData": {"userIdentifiers": self.user_identifiers(member.hashes)}}
        if consent:
            payload["consent"] = dict(GRANTED)
        return payload

    def _send(self, verb: str, audience_id: str, members: Sequence[Member]) -> SendResult:
        body = {
            "destinations": [self.destination(audience_id)],
            "audienceMembers": [self.member(m, consent=verb == "ingest") for m in members],
            "encoding": "HEX",  # Data Manager: required for UserData; our hashes are lowercase hex
        }
        answer = self.authorised_call(ApiCall("POST", f"/v1/audienceMembers:{verb}", body=body))
        if not isinstance(answer, dict) or not answer.get("requestId"):
            raise PlatformAPIError(self.name, f"no requestId in {answer!r}"[:300], retryable=True)
        return SendResult(self.slug, len(members), answer, 200)

    def add_members(self, audience_id: str, members: Sequence[Member]) -> SendResult:
        return self._send("ingest", audience_id, members)

    def remove_members(self, audience_id: str, members: Sequence[Member]) -> SendResult:
        return self._send("remove", audience_id, members)

    def export_row(self, member: Member) -> dict[str, str]:
        return {"emailAddress": "", "phoneNumber": "", **self.identifier_values(member.hashes)}
