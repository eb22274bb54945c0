"""A stand-in for TikTok's customer-file audience endpoints (Business API v1.3), on 127.0.0.1.

Written from reference/platforms.md F and the tiktok-business-api-sdk docs: POST
/open_api/v1.3/dmp/custom_audience/file/upload/ (multipart; file_signature must be the file's MD5; one
64-hex hash a line), /create/ (file_paths, calculate_type, retention_in_days 1-365) and /update/
(action required here: TikTok's own default is REPLACE). Any create or update that would leave an
audience under 1,000 is refused. Errors come as TikTok sends them: HTTP 200 with a non-zero "code";
HTTP faults as audience_fake.RawBodyFake.
"""
from __future__ import annotations

import hashlib
import itertools
from email import policy
from email.parser import BytesParser
from typing import Any

from shop_demo.fakeplatforms.audience_fake import HEX64, Answer, Invalid, RawBodyFake, Refused, json_body
from shop_demo.fakeplatforms.common import AUDIENCE_CREDENTIALS

# The demo's credentials (shop_demo/settings.py).
ADVERTISER_ID = AUDIENCE_CREDENTIALS["tiktok"]["advertiser_id"]
ACCESS_TOKEN = AUDIENCE_CREDENTIALS["tiktok"]["audiences_access_token"]
API = "/open_api/v1.3/dmp/custom_audience"
CALCULATE_TYPES = {"EMAIL_SHA256", "PHONE_SHA256", "IDFA_SHA256", "GAID_SHA256"}
ACTIONS = {"APPEND", "REMOVE", "REPLACE"}
FLOOR = 1_000


class FakeTikTokAudiences(RawBodyFake):
    """``files[path]`` = (calculate_type, hashes); ``audiences[id]`` = {"name", "calculate_type", "members", ...}."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[str, list[str]]] = {}
        self.audiences: dict[str, dict[str, Any]] = {}
        self.updates: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        super().__init__()

    def settings(self, **overrides: Any) -> dict[str, Any]:
        """The audience keys of SOCIALSHOP['PLATFORMS']['tiktok'] pointing here (events keep their own host)."""
        return {"audiences_api_base": self.url, "advertiser_id": ADVERTISER_ID, "audiences_access_token": ACCESS_TOKEN, **overrides}

    def members(self, audience_id: str) -> set[str]:
        with self.lock:
            return set(self.audiences[audience_id]["members"])

    def error(self, status: int, message: str, **extra: Any) -> Refused:
        return Refused(status, {"code": 50000 if status >= 500 else 40000 + status, "message": message, **extra})

    def invalid(self, message: str) -> Answer:
        return Answer(200, {"code": 40002, "message": message, "request_id": "fake"})  # TikTok: 200 with a code

    # -- endpoints -----------------------------------------------------------------------------------
    def route(self, method: str, path: str, headers: Any, raw: bytes) -> Answer:
        if headers.get("Access-Token") != ACCESS_TOKEN:
            return Answer(200, {"code": 40105, "message": "The access token is invalid or has been revoked."})
        if method == "POST" and path == f"{API}/file/upload/":
            return self.upload(headers.get("Content-Type", ""), raw)
        if method == "POST" and path == f"{API}/create/":
            return self.create(json_body(raw))
        if method == "POST" and path == f"{API}/update/":
            return self.update(json_body(raw))
        return Answer(404, {"code": 40400, "message": f"no endpoint {method} {path}"})

    def upload(self, content_type: str, raw: bytes) -> Answer:
        if not content_type.startswith("multipart/form-data"):
            raise Invalid("file upload must be multipart/form-data")
        message = BytesParser(policy=policy.HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + raw)
        fields: dict[str, bytes] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            fields[str(name)] = part.get_payload(decode=True) or b""
        if fields.get("advertiser_id", b"").decode() != ADVERTISER_ID:
            raise Invalid("advertiser_id is not this advertiser")
        calculate_type = fields.get("calculate_type", b"").decode()
        if calculate_type not in CALCULATE_TYPES:
            raise Invalid(f"calculate_type {calculate_type!r} is not valid")
        if not fields.get("file_name"):
            raise Invalid("file_name is required")
        content = fields.get("file")
        if not content:
            raise Invalid("file is required and not empty")
        if fields.get("file_signature", b"").decode() != hashlib.md5(content).hexdigest():  # noqa: S324 - TikTok's checksum
            raise Invalid("file_signature is not the MD5 of the file")
        lines = content.decode().splitlines()
        for number, line in enumerate(lines, 1):
            if not HEX64.match(line):
                raise Invalid(f"line {number} of the file is not a SHA-256 hex digest: {line[:20]!r}")
        path = f"fp-{next(self._ids)}"
        self.files[path] = (calculate_type, lines)
        return Answer(200, {"code": 0, "message": "OK", "data": {"file_path": path}})

    def hashes(self, body: dict[str, Any], calculate_type: str) -> set[str]:
        paths = body.get("file_paths")
        if not isinstance(paths, list) or not 1 <= len(paths) < 50:
            raise Invalid("file_paths must hold 1 to 49 uploaded files")
        out: set[str] = set()
        for path in paths:
            if path not in self.files:
                raise Invalid(f"file_path {path!r} was not uploaded")
            if self.files[path][0] != calculate_type:
                raise Invalid(f"file {path} is {self.files[path][0]}, the audience {calculate_type}")
            out.update(self.files[path][1])
        return out

    def create(self, body: dict[str, Any]) -> Answer:
        if body.get("advertiser_id") != ADVERTISER_ID:
            raise Invalid("advertiser_id is not this advertiser")
        name = body.get("custom_audience_name")
        if not isinstance(name, str) or not 1 <= len(name) <= 128:
            raise Invalid("custom_audience_name must hold 1 to 128 characters")
        if body.get("calculate_type") not in CALCULATE_TYPES:
            raise Invalid("calculate_type is not valid")
        days = body.get("retention_in_days")
        if days is not None and (not isinstance(days, int) or not 1 <= days <= 365):
            raise Invalid("retention_in_days must be 1 to 365")
        members = self.hashes(body, body["calculate_type"])
        if len(members) < FLOOR:
            raise Invalid(f"The audience size must be at least {FLOOR:,}; the files hold {len(members)}.")
        audience_id = str(900_000 + next(self._ids))
        self.audiences[audience_id] = {"name": name, "calculate_type": body["calculate_type"], "members": members,
                                       "retention_in_days": days}
        return Answer(200, {"code": 0, "message": "OK", "data": {"custom_audience_id": audience_id}})

    def update(self, body: dict[str, Any]) -> Answer:
        if body.get("advertiser_id") != ADVERTISER_ID:
            raise Invalid("advertiser_id is not this advertiser")
        audience = self.audiences.get(str(body.get("custom_audience_id")))
        if audience is None:
            raise Invalid(f"custom_audience_id {body.get('custom_audience_id')!r} does not exist")
        action = body.get("action")
        if action not in ACTIONS:
            # TikTok would take a missing action as REPLACE and drop everyone else: the stand-in refuses it.
            raise Invalid(f"action {action!r} is missing or not one of APPEND, REMOVE, REPLACE")
        hashes = self.hashes(body, audience["calculate_type"])
        after = {"APPEND": audience["members"] | hashes, "REMOVE": audience["members"] - hashes, "REPLACE": hashes}[action]
        if len(after) < FLOOR:
            raise Invalid(f"The audience size will be less than {FLOOR:,} after the operation.")
        audience["members"] = after
        self.updates.append({"action": action, "files": len(body["file_paths"]), "size": len(after)})
        return Answer(200, {"code": 0, "message": "OK", "data": {}})
