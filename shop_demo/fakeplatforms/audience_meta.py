"""A stand-in for Meta's Custom Audience endpoints (and the Conversions API, to show a halt stays per
capability) on 127.0.0.1, written from reference/platforms.md section F.

Checks: the ``access_token`` parameter; create with ``customer_file_source``; website audiences with a
pixel rule and no ``subtype``; lookalikes with ``origin_audience_id`` and ``lookalike_spec`` {country,
ratio 0.01-0.20}; ``payload.schema`` the one multi-key list (locked per audience, #2650), every row that
long, every value SHA-256 hex or ""; <= 10,000 rows an add, <= 1,000 a removal.
"""
from __future__ import annotations

import itertools
import re
from typing import Any

from shop_demo.fakeplatforms.audience_fake import AudienceFake, Refused, hashed
from shop_demo.fakeplatforms.common import AUDIENCE_CREDENTIALS, CREDENTIALS

# The demo's credentials (shop_demo/settings.py): events and audiences share Meta's token and host.
TOKEN = CREDENTIALS["meta"]["access_token"]
AD_ACCOUNT = AUDIENCE_CREDENTIALS["meta"]["ad_account_id"].removeprefix("act_")
PIXEL = CREDENTIALS["meta"]["pixel_id"]
SCHEMA_KEYS = {"EXTERN_ID", "EMAIL", "PHONE", "GEN", "DOBY", "DOBM", "DOBD", "LN", "FN", "FI", "CT", "ST", "ZIP",
               "MADID", "COUNTRY", "APPUID"}
ADD_LIMIT, REMOVE_LIMIT = 10_000, 1_000
FILE_SOURCES = {"USER_PROVIDED_ONLY", "PARTNER_PROVIDED_ONLY", "BOTH_USER_AND_PARTNER_PROVIDED"}
MAX_RETENTION = 180 * 86400
_ids = itertools.count(23850000000000001)


def settings(url: str, **extra: Any) -> dict[str, Any]:
    """A SOCIALSHOP['PLATFORMS']['meta'] entry pointing at this stand-in with audiences on."""
    return {"pixel_id": PIXEL, "access_token": TOKEN, "ad_account_id": f"act_{AD_ACCOUNT}", "api_base": url,
            "timeout": 2, **extra}


class FakeMetaAudiences(AudienceFake):
    def __post_init__(self) -> None:
        super().__post_init__()
        self.audiences: dict[str, dict[str, Any]] = {}
        self.events: list[str] = []

    def reset_state(self) -> None:
        self.audiences.clear()
        self.events.clear()

    def error(self, status: int, message: str, code: int = 100, subcode: int | None = None, **extra: Any) -> Refused:
        error: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AfakeTrace"}
        if subcode is not None:
            error["error_subcode"] = subcode
        return Refused(status, {"error": error})

    def members(self, audience_id: str) -> set[str]:
        """The EMAIL column of every row on the list."""
        audience = self.audiences[audience_id]
        column = audience["schema"].index("EMAIL") if audience.get("schema") else 0
        return {row[column] for row in audience["rows"]}

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [a for a in self.audiences.values() if a["kind"] == kind]

    # -- API ---------------------------------------------------------------------------------
    def handle(self, method: str, path: str, query: dict[str, str], headers: Any, body: Any) -> tuple[int, Any]:
        if query.get("access_token") != TOKEN:
            raise self.error(401, "Error validating access token: The session has been invalidated.", code=190)
        m = re.fullmatch(r"/v\d+\.\d+/(.+)", path)
        if not m:
            raise self.error(404, f"unknown path {path}", code=803)
        tail = m.group(1)
        if tail == f"{PIXEL}/events" and method == "POST":
            data = body["data"]
            self.events += [e["event_id"] for e in data]
            return 200, {"events_received": len(data), "fbtrace_id": "AfakeTrace"}
        if tail == f"act_{AD_ACCOUNT}/customaudiences" and method == "POST":
            return self.create(body)
        if tail.startswith("act_") and tail.endswith("/customaudiences"):
            raise self.error(403, "Unsupported post request: missing permissions on this ad account", subcode=33)
        if (m := re.fullmatch(r"(\d+)/users", tail)) and method in ("POST", "DELETE"):
            return self.users(method, m.group(1), body)
        if (m := re.fullmatch(r"(\d+)", tail)) and method == "POST":
            audience = self.audiences.get(m.group(1))
            if not audience or audience["kind"] != "website":
                raise self.error(400, f"no website audience {m.group(1)}")
            audience["rule"] = self.check_rule(body.get("rule"))
            return 200, {"success": True}
        raise self.error(400, f"unsupported {method} {path}")

    def create(self, body: dict[str, Any]) -> tuple[int, Any]:
        if not isinstance(body.get("name"), str) or not body["name"]:
            raise self.error(400, "name is required")
        subtype = body.get("subtype")
        if "rule" in body:
            if subtype is not None:
                raise self.error(400, "website audiences take no subtype")
            audience = {"kind": "website", "rule": self.check_rule(body["rule"]), "prefill": body.get("prefill")}
        elif subtype == "CUSTOM":
            if body.get("customer_file_source") not in FILE_SOURCES:
                raise self.error(400, "customer_file_source is required for customer lists")
            audience = {"kind": "list", "schema": None, "rows": set()}
        elif subtype == "LOOKALIKE":
            seed = self.audiences.get(str(body.get("origin_audience_id")))
            if not seed or seed["kind"] != "list" or len(seed["rows"]) < 100:
                raise self.error(400, "origin audience must be a customer list of at least 100 people")
            spec = body.get("lookalike_spec") or {}
            if not re.fullmatch(r"[A-Z]{2}", str(spec.get("country"))):
                raise self.error(400, "lookalike_spec.country must be an ISO country code")
            ratio = spec.get("ratio")
            if not isinstance(ratio, (int, float)) or not 0.01 <= ratio <= 0.20 or round(ratio, 2) != ratio:
                raise self.error(400, "lookalike_spec.ratio must be 0.01-0.20 in steps of 0.01")
            audience = {"kind": "lookalike", "spec": spec, "origin": str(body["origin_audience_id"])}
        else:
            raise self.error(400, f"subtype {subtype!r} is not supported")
        audience_id = str(next(_ids))
        self.audiences[audience_id] = {"id": audience_id, "name": body["name"], **audience}
        return 200, {"id": audience_id}

    def check_rule(self, rule: Any) -> dict[str, Any]:
        if not isinstance(rule, dict) or not isinstance(rule.get("inclusions"), dict):
            raise self.error(400, "rule.inclusions is required")
        count = 0
        for part in ("inclusions", "exclusions"):
            group = rule.get(part)
            if group is None:
                continue
            if group.get("operator") not in ("and", "or") or not isinstance(group.get("rules"), list):
                raise self.error(400, f"rule.{part} needs an operator and rules")
            for r in group["rules"]:
                count += 1
                if r.get("event_sources") != [{"id": PIXEL, "type": "pixel"}]:
                    raise self.error(400, "event_sources must name this ad account's pixel")
                if not isinstance(r.get("retention_seconds"), int) or not 0 < r["retention_seconds"] <= MAX_RETENTION:
                    raise self.error(400, "retention_seconds must be 1 s to 180 days")
                filters = (r.get("filter") or {}).get("filters") or []
                if not any(f.get("field") == "event" for f in filters) or len(filters) > 100:
                    raise self.error(400, "each rule filters on an event (at most 100 filters)")
        if count > 10:
            raise self.error(400, "at most 10 rules per audience")
        return rule

    def users(self, method: str, audience_id: str, body: Any) -> tuple[int, Any]:
        audience = self.audiences.get(audience_id)
        if not audience or audience["kind"] != "list":
            raise self.error(400, f"no customer list {audience_id}")
        payload = (body or {}).get("payload") or {}
        schema, data = payload.get("schema"), payload.get("data")
        if not isinstance(schema, list) or not schema or set(schema) - SCHEMA_KEYS or len(set(schema)) != len(schema):
            raise self.error(400, f"payload.schema {schema!r} is not a multi-key schema")
        if audience["schema"] is not None and audience["schema"] != schema:
            raise self.error(400, "This audience was created with a different schema", code=2650)
        if not isinstance(data, list) or not data:
            raise self.error(400, "payload.data is empty")
        limit = ADD_LIMIT if method == "POST" else REMOVE_LIMIT
        if len(data) > limit:
            raise self.error(400, f"{len(data)} rows in one request; at most {limit}")
        rows = []
        for i, row in enumerate(data):
            if not isinstance(row, list) or len(row) != len(schema):
                raise self.error(400, f"payload.data[{i}] has {len(row) if isinstance(row, list) else '?'} columns, schema {len(schema)}")
            if not any([hashed(v, f"payload.data[{i}]", empty_ok=True) for v in row]):
                raise self.error(400, f"payload.data[{i}] has no identifier")
            self.check_poison(row)
            rows.append(tuple(row))
        audience["schema"] = schema
        if method == "POST":
            audience["rows"].update(rows)
        else:
            audience["rows"].difference_update(rows)
        return 200, {"audience_id": audience_id, "session_id": "1", "num_received": len(rows), "num_invalid_entries": 0,
                     "invalid_entry_samples": {}}
