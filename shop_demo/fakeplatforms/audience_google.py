"""A stand-in for Google's OAuth token endpoint and the Data Manager API (Customer Match), on 127.0.0.1.

Written from reference/platforms.md F and the Data Manager REST reference: POST /token (refresh-token
grant), POST /v1/accountTypes/GOOGLE_ADS/accounts/{id}/userLists, POST /v1/audienceMembers:ingest and
:remove. It checks the bearer token it issued (and its expiry), HEX encoding, 64-hex identifiers, at
most 10,000 members and 10 identifiers each, the destination (operating account, an existing list) and
granted consent per member; it keeps each list's members. Errors as audience_fake.RawBodyFake.
"""
from __future__ import annotations

import itertools
import secrets
import time
import uuid
from typing import Any
from urllib.parse import parse_qs

from shop_demo.fakeplatforms.audience_fake import HEX64, Answer, Invalid, RawBodyFake, Refused, json_body
from shop_demo.fakeplatforms.common import AUDIENCE_CREDENTIALS

_DEMO = AUDIENCE_CREDENTIALS["google"]  # the demo's credentials (shop_demo/settings.py)
CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN = _DEMO["oauth_client_id"], _DEMO["oauth_client_secret"], _DEMO["oauth_refresh_token"]
OPERATING_ACCOUNT = _DEMO["operating_account_id"].replace("-", "")
GRANTED = "CONSENT_GRANTED"
IDENTIFIER_FIELDS = ("emailAddress", "phoneNumber", "address")


class FakeGoogleAudiences(RawBodyFake):
    """``lists[id]`` is {"displayName", "members": {first identifier: identifiers}}; ``tokens`` issued -> expiry."""

    def __init__(self) -> None:
        self.lists: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, float] = {}
        self.token_lifetime = 3600
        self.refuse_refresh = False
        self.refreshes = 0
        self.request_ids: list[str] = []
        self._ids = itertools.count(5_000_001)
        super().__init__()

    def settings(self, **overrides: Any) -> dict[str, Any]:
        """The audience keys of SOCIALSHOP['PLATFORMS']['google'] pointing here."""
        return {"audiences_api_base": self.url, "oauth_token_url": f"{self.url}/token", "oauth_client_id": CLIENT_ID,
                "oauth_client_secret": CLIENT_SECRET, "oauth_refresh_token": REFRESH_TOKEN,
                "operating_account_id": "123-456-7890", **overrides}

    def expire_tokens(self) -> None:
        """Every access token issued so far is now expired (Google answers 401 to it)."""
        with self.lock:
            self.tokens = dict.fromkeys(self.tokens, 0.0)

    def members(self, list_id: str) -> set[str]:
        """The first identifier (the email hash when sent) of each member of ``list_id``."""
        with self.lock:
            return set(self.lists[list_id]["members"])

    # -- endpoints -----------------------------------------------------------------------------------
    def route(self, method: str, path: str, headers: Any, raw: bytes) -> Answer:
        if method == "POST" and path in ("/token", "/datamanager/token"):  # the second: behind the demo's stand-in
            return self.token(raw)
        if not self.authorised(headers):
            return Answer(401, {"error": {"code": 401, "status": "UNAUTHENTICATED",
                                          "message": "Request had invalid authentication credentials."}})
        if method == "POST" and path.startswith("/v1/accountTypes/") and path.endswith("/userLists"):
            return self.create_list(path, json_body(raw))
        if method == "POST" and path in ("/v1/audienceMembers:ingest", "/v1/audienceMembers:remove"):
            return self.members_call(path.rsplit(":", 1)[1], json_body(raw))
        return Answer(404, {"error": {"code": 404, "message": f"no endpoint {method} {path}"}})

    def token(self, raw: bytes) -> Answer:
        form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        if form.get("grant_type") != "refresh_token":
            return Answer(400, {"error": "unsupported_grant_type"})
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return Answer(401, {"error": "invalid_client", "error_description": "The OAuth client was not found."})
        if self.refuse_refresh or form.get("refresh_token") != REFRESH_TOKEN:
            return Answer(400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."})
        self.refreshes += 1
        token = f"ya29.{secrets.token_urlsafe(12)}"
        self.tokens[token] = time.time() + self.token_lifetime
        return Answer(200, {"access_token": token, "expires_in": self.token_lifetime, "token_type": "Bearer",
                            "scope": "https://www.googleapis.com/auth/datamanager"})

    def authorised(self, headers: Any) -> bool:
        token = str(headers.get("Authorization") or "").removeprefix("Bearer ")
        return self.tokens.get(token, 0.0) > time.time()

    def create_list(self, path: str, body: dict[str, Any]) -> Answer:
        account = path.split("/")[5]
        if path.split("/")[3] != "GOOGLE_ADS" or account != OPERATING_ACCOUNT:
            raise Invalid(f"parent {path} is not the operating account")
        name = body.get("displayName")
        if not isinstance(name, str) or not name:
            raise Invalid("displayName is required")
        if any(lst["displayName"] == name for lst in self.lists.values()):
            return Answer(409, {"error": {"code": 409, "status": "ALREADY_EXISTS", "message": f"a list named {name!r} exists"}})
        info = body.get("ingestedUserListInfo") or {}
        if info.get("uploadKeyTypes") != ["CONTACT_ID"] or not isinstance(info.get("contactIdInfo"), dict):
            raise Invalid("ingestedUserListInfo needs uploadKeyTypes [CONTACT_ID] and contactIdInfo")
        duration = str(body.get("membershipDuration", "0s"))
        if not duration.endswith("s") or int(duration[:-1]) % 86400 or int(duration[:-1]) > 540 * 86400:
            raise Invalid(f"membershipDuration {duration!r} is not whole days up to 540")
        list_id = str(next(self._ids))
        self.lists[list_id] = {"displayName": name, "members": {}}
        return Answer(200, {"name": f"accountTypes/GOOGLE_ADS/accounts/{account}/userLists/{list_id}", "id": list_id,
                            "displayName": name})

    def members_call(self, verb: str, body: dict[str, Any]) -> Answer:
        if body.get("encoding") != "HEX":
            raise Invalid("encoding is required for UserData uploads and must be HEX here")
        destinations = body.get("destinations")
        if not isinstance(destinations, list) or not 1 <= len(destinations) <= 10:
            raise Invalid("destinations must hold 1 to 10 destinations")
        lists = []
        for d in destinations:
            account = d.get("operatingAccount") or {}
            if account.get("accountType") != "GOOGLE_ADS" or account.get("accountId") != OPERATING_ACCOUNT:
                raise Invalid(f"operatingAccount {account!r} is not the Google Ads account")
            if d.get("productDestinationId") not in self.lists:
                raise Invalid(f"productDestinationId {d.get('productDestinationId')!r} is not a user list")
            lists.append(self.lists[d["productDestinationId"]])
        members = body.get("audienceMembers")
        if not isinstance(members, list) or not 1 <= len(members) <= 10_000:
            raise Invalid("audienceMembers must hold 1 to 10000 members")
        request_consent = body.get("consent") or {}
        keyed = []
        for i, member in enumerate(members):
            identifiers = ((member.get("userData") or {}).get("userIdentifiers")) or []
            if not 1 <= len(identifiers) <= 10:
                raise Invalid(f"audienceMembers[{i}]: 1 to 10 userIdentifiers are required")
            values = []
            for identifier in identifiers:
                present = [f for f in IDENTIFIER_FIELDS if f in identifier]
                if len(present) != 1 or present[0] == "address":
                    raise Invalid(f"audienceMembers[{i}]: each identifier holds exactly one of emailAddress, phoneNumber")
                value = identifier[present[0]]
                if not isinstance(value, str) or not HEX64.match(value):
                    raise Invalid(f"audienceMembers[{i}].{present[0]}: {value!r} is not a hex SHA-256 digest")
                values.append(value)
            if verb == "ingest":
                consent = member.get("consent") or request_consent
                if consent.get("adUserData") != GRANTED or consent.get("adPersonalization") != GRANTED:
                    raise Invalid(f"audienceMembers[{i}]: consent not granted; such a member must not be sent")
            keyed.append((values[0], values))
        for lst in lists:
            for key, values in keyed:
                if verb == "ingest":
                    lst["members"][key] = values
                else:
                    lst["members"].pop(key, None)
        request_id = str(uuid.uuid4())
        self.request_ids.append(request_id)
        return Answer(200, {"requestId": request_id})
