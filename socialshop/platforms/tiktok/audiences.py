"""TikTok custom audiences from a customer file: upload a file of hashes, then create the audience from it
or append / remove another file (Business API ``/dmp/custom_audience/...``).

Facts from reference/platforms.md section F and the tiktok-business-api-sdk docs (CustomAudienceCreateBody,
CustomAudienceUpdateBody); docs in docs/platforms/tiktok.md (Audiences).
"""
from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from socialshop.exceptions import ConfigurationError
from socialshop.platforms.audiences import CREATED_ID_KEY, AudienceUploads, Member
from socialshop.platforms.events import SendResult
from socialshop.platforms.http import ApiCall, PlatformAPIError
from socialshop.platforms.tiktok.business import BusinessApi

API = "/open_api/v1.3/dmp/custom_audience"
# TikTok: one ID type per file and per audience ("calculate_type"); ours -> the hash key that fills it.
# Email: trim, lowercase, SHA-256 (no gmail rule: that is Google's); phone: E.164 with '+', SHA-256.
CALCULATE_TYPES: dict[str, str] = {"EMAIL_SHA256": "em", "PHONE_SHA256": "ph_e164"}
DEFAULT_CALCULATE_TYPE = "EMAIL_SHA256"
# The remote id of an audience TikTok has not created yet: TikTok creates an audience only from a file
# (file_paths is required), so it is made with the first batch of members; audiences/sync.py then stores
# the id the answer names under CREATED_ID_KEY.
PENDING_PREFIX = "pending:"
# Why members are kept back instead of sent, shown on the change rows and the destination's last result.
FLOOR_REASON = ("TikTok refuses any change that leaves a customer-file audience under 1,000 people; "
                "kept and tried again at the next sync")


class TikTokAudiences(BusinessApi, AudienceUploads):
    """Customer-file audiences: /file/upload/, then /create/ (first batch) or /update/ with APPEND or REMOVE."""

    # Marketing API credentials: an app token with Audience Management scope, not the Events API token.
    required_settings: ClassVar[tuple[str, ...]] = ("advertiser_id", "audiences_access_token")
    optional_settings: ClassVar[tuple[str, ...]] = ("audience_id_type", "audience_retention_days")
    # The Business API's host, like events; its own key "audiences_api_base" lets a proxy stand in for it alone.
    default_api_base: ClassVar[str] = "https://business-api.tiktok.com"
    # TikTok: files under 1 GB; 50,000 hashes (~3.3 MB) keeps each upload small. Claims are smaller anyway.
    batch_limit: ClassVar[int] = 50_000
    remove_batch_limit: ClassVar[int] = 50_000
    # TikTok: every create, APPEND, REMOVE or REPLACE fails if the audience would hold fewer than 1,000.
    min_size: ClassVar[int] = 1_000
    identifier_keys: ClassVar[tuple[str, ...]] = tuple(CALCULATE_TYPES.values())

    @classmethod
    def check_values(cls, entry: Mapping[str, Any], key: str) -> list[Any]:
        problems = []
        id_type = entry.get("audience_id_type")
        if id_type not in (None, "") and not (isinstance(id_type, str) and id_type in CALCULATE_TYPES):
            problems.append(cls.value_error(key, entry, "audience_id_type", f"one of {', '.join(map(repr, CALCULATE_TYPES))}", "socialshop.E178"))
        days = entry.get("audience_retention_days")
        if days is not None and not (isinstance(days, int) and not isinstance(days, bool) and 1 <= days <= 365):
            problems.append(cls.value_error(key, entry, "audience_retention_days", "whole days from 1 to 365, or leave it out (365 days from the "
                                                        "last change)", "socialshop.E179"))
        return problems

    @property
    def calculate_type(self) -> str:
        return str(self.config.get("audience_id_type") or DEFAULT_CALCULATE_TYPE)

    @property
    def hash_key(self) -> str:
        """Our hash key for this store's ID type (``ConfigurationError`` names the key when it is unknown)."""
        key = CALCULATE_TYPES.get(self.calculate_type)
        if key is None:
            raise ConfigurationError(f"SOCIALSHOP['PLATFORMS']['{self.slug}']['audience_id_type'] = {self.calculate_type!r} "
                                     f"is not one of {', '.join(CALCULATE_TYPES)}")
        return key

    def matchable(self, hashes: Mapping[str, str]) -> bool:
        return bool(hashes.get(self.hash_key))

    def export_row(self, member: Member) -> dict[str, str]:
        return {self.calculate_type: member.hashes.get(self.hash_key, "")}

    # -- calls ---------------------------------------------------------------------------------------
    def business_call(self, api_call: ApiCall) -> dict[str, Any]:
        """Make ``api_call`` with the audiences token; a non-zero ``code`` in a 200 answer raises."""
        call = ApiCall(api_call.method, api_call.path, body=api_call.body, raw=api_call.raw,
                       headers={**api_call.headers, "Access-Token": str(self.setting("audiences_access_token"))})
        status, answer = self.call(call)
        error = self.answer_error(status, answer)
        if error is not None:
            raise error
        data = answer.get("data")
        return data if isinstance(data, dict) else {}

    def file_bytes(self, members: Sequence[Member]) -> bytes:
        """One hash a line, each once, in the audience's ID type."""
        lines = dict.fromkeys(m.hashes[self.hash_key] for m in members if m.hashes.get(self.hash_key))
        return "".join(f"{line}\n" for line in lines).encode()

    def upload(self, members: Sequence[Member]) -> str:
        """POST /file/upload/ (multipart): the file and its MD5 as file_signature; returns TikTok's file_path."""
        content = self.file_bytes(members)
        name = f"socialshop-{secrets.token_hex(6)}.txt"
        fields = {"advertiser_id": str(self.setting("advertiser_id")), "calculate_type": self.calculate_type,
                  "file_name": name, "file_signature": hashlib.md5(content).hexdigest()}  # noqa: S324 - TikTok's checksum
        boundary = f"socialshop{secrets.token_hex(12)}"
        body = b"".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
            for key, value in fields.items()
        ) + (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
             f"Content-Type: text/plain\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
        data = self.business_call(ApiCall("POST", f"{API}/file/upload/", raw=body,
                                          headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}))
        if not data.get("file_path"):
            raise PlatformAPIError(self.name, f"no file_path in the upload answer {data!r}"[:300], retryable=True)
        return str(data["file_path"])

    # -- the capability ------------------------------------------------------------------------------
    def create_audience(self, name: str, *, description: str = "") -> str:
        """TikTok makes an audience only from a file: remember the name; the first add creates it."""
        return f"{PENDING_PREFIX}{name[:80]}"

    def _kept_back(self, members: Sequence[Member], reason: str, answer: Any = None) -> SendResult:
        return SendResult(self.slug, 0, answer, 200, rejected={m.key: reason for m in members})

    def add_members(self, audience_id: str, members: Sequence[Member]) -> SendResult:
        if audience_id.startswith(PENDING_PREFIX):
            if len(members) < self.min_size:
                # TikTok: a new audience needs a file of at least 1,000 entries.
                return self._kept_back(members, f"TikTok creates an audience from at least {self.min_size:,} people and "
                                                f"this batch had {len(members)}: tried again at the next sync")
            body: dict[str, Any] = {
                "advertiser_id": str(self.setting("advertiser_id")), "custom_audience_name": audience_id[len(PENDING_PREFIX):][:128],
                "calculate_type": self.calculate_type, "file_paths": [self.upload(members)],
            }
            if self.config.get("audience_retention_days"):
                # TikTok: a fixed expiry counted from creation; without it the audience lives 365 days from its
                # last change, which a kept-in-step audience renews at each sync.
                body["retention_in_days"] = int(self.config["audience_retention_days"])
            data = self.business_call(ApiCall("POST", f"{API}/create/", body=body))
            if not data.get("custom_audience_id"):
                raise PlatformAPIError(self.name, f"no custom_audience_id in {data!r}"[:300], retryable=True)
            return SendResult(self.slug, len(members), {**data, CREATED_ID_KEY: str(data["custom_audience_id"])}, 200)
        return self._update(audience_id, self.upload(members), "APPEND", len(members))

    def remove_members(self, audience_id: str, members: Sequence[Member]) -> SendResult:
        if audience_id.startswith(PENDING_PREFIX):
            return SendResult(self.slug, len(members), {"note": "audience not created yet: nobody to remove"}, 200)
        path = self.upload(members)  # a bad file is refused here, and bisected by the engine like any batch
        try:
            return self._update(audience_id, path, "REMOVE", len(members))
        except PlatformAPIError as exc:
            if exc.retryable or exc.auth:
                raise
            # The file was accepted by the upload, so a refused REMOVE is about the audience, not a member:
            # TikTok refuses a removal that would leave fewer than 1,000 (CustomAudienceUpdateBody).
            return self._kept_back(members, f"{FLOOR_REASON} ({exc.message})"[:500], exc.body)

    def _update(self, audience_id: str, file_path: str, action: str, count: int) -> SendResult:
        # TikTok: action defaults to REPLACE, which would drop everyone not in this file: always send it.
        data = self.business_call(ApiCall("POST", f"{API}/update/", body={
            "advertiser_id": str(self.setting("advertiser_id")), "custom_audience_id": audience_id,
            "file_paths": [file_path], "action": action,
        }))
        return SendResult(self.slug, count, data, 200)
