"""A stand-in for Pinterest's v5 audience endpoints (and its Conversions API, to show a halt stays per
capability) on 127.0.0.1, written from reference/platforms.md section F and the v5 OpenAPI models.

Checks: Bearer tokens (the audiences OAuth token for lists and audiences, the conversion token for
events); customer lists created with ``records`` (one comma-separated string) and ``list_type``, then
``PATCH`` with ``operation_type`` ADD/REMOVE; ``POST /audiences`` with ``audience_type`` CUSTOMER_LIST
(``customer_list_id``), VISITOR (``visitor_source_id``, ``retention_days`` 1-540, a tag ``event``) or
ACTALIKE (``seed_id``, ``country``, ``percentage`` 1-10); every record SHA-256 hex; <= 10,000 a request.
"""
from __future__ import annotations

import itertools
import re
from typing import Any

from shop_demo.fakeplatforms.audience_fake import AudienceFake, Refused, hashed
from shop_demo.fakeplatforms.common import AUDIENCE_CREDENTIALS, CREDENTIALS

# The demo's credentials (shop_demo/settings.py): audiences take their own OAuth token, events theirs.
AUDIENCES_TOKEN = AUDIENCE_CREDENTIALS["pinterest"]["audiences_access_token"]
EVENTS_TOKEN = CREDENTIALS["pinterest"]["access_token"]
AD_ACCOUNT = CREDENTIALS["pinterest"]["ad_account_id"]
TAG_ID = CREDENTIALS["pinterest"]["tag_id"]
LIST_TYPES = {"EMAIL", "IDFA", "MAID", "LR_ID", "DLX_ID", "HASHED_PINNER_ID"}
TAG_EVENTS = {"pagevisit", "signup", "checkout", "viewcategory", "search", "addtocart", "watchvideo", "lead", "custom"}
RECORD_LIMIT = 10_000
_ids = itertools.count(2542620000001)


def settings(url: str, **extra: Any) -> dict[str, Any]:
    """A SOCIALSHOP['PLATFORMS']['pinterest'] entry pointing at this stand-in with audiences on."""
    return {"ad_account_id": AD_ACCOUNT, "access_token": EVENTS_TOKEN, "audiences_access_token": AUDIENCES_TOKEN,
            "tag_id": TAG_ID, "api_base": url, "timeout": 2, **extra}


class FakePinterestAudiences(AudienceFake):
    def __post_init__(self) -> None:
        super().__post_init__()
        self.lists: dict[str, set[str]] = {}
        self.audiences: dict[str, dict[str, Any]] = {}
        self.events: list[str] = []

    def reset_state(self) -> None:
        self.lists.clear()
        self.audiences.clear()
        self.events.clear()

    def error(self, status: int, message: str, code: int = 1, **extra: Any) -> Refused:
        return Refused(status, {"code": code, "message": message})

    def of_type(self, audience_type: str) -> list[dict[str, Any]]:
        return [a for a in self.audiences.values() if a["audience_type"] == audience_type]

    def records(self, value: Any) -> list[str]:
        if not isinstance(value, str) or not value:
            raise self.error(400, "records must be a non-empty comma-separated string")
        out = value.split(",")
        if len(out) > RECORD_LIMIT:
            raise self.error(400, f"{len(out)} records in one request; at most {RECORD_LIMIT}")
        for i, record in enumerate(out):
            hashed(record, f"records[{i}]")
        self.check_poison(out)
        return out

    def handle(self, method: str, path: str, query: dict[str, str], headers: Any, body: Any) -> tuple[int, Any]:
        m = re.fullmatch(r"/v5/ad_accounts/(\w+)/(.+)", path)
        if not m or m.group(1) != AD_ACCOUNT:
            raise self.error(404, f"unknown path {path}", code=404)
        tail = m.group(2)
        token = str(headers.get("Authorization", "")).removeprefix("Bearer ")
        wanted = EVENTS_TOKEN if tail == "events" else AUDIENCES_TOKEN
        if token != wanted:
            raise self.error(401, "Authentication failed.", code=2)
        if tail == "events" and method == "POST":
            self.events += [e["event_id"] for e in body["data"]]
            return 200, {"num_events_received": len(body["data"]), "num_events_processed": len(body["data"]), "events": []}
        if tail == "customer_lists" and method == "POST":
            if not body.get("name") or body.get("list_type", "EMAIL") not in LIST_TYPES:
                raise self.error(400, "name and a valid list_type are required")
            list_id = str(next(_ids))
            self.lists[list_id] = set(self.records(body.get("records")))
            return 201, {"id": list_id, "name": body["name"], "type": "customerlist", "status": "PROCESSING"}
        if (m := re.fullmatch(r"customer_lists/(\d+)", tail)) and method == "PATCH":
            members = self.lists.get(m.group(1))
            if members is None:
                raise self.error(404, f"no customer list {m.group(1)}", code=2601)
            operation = body.get("operation_type")
            if operation not in ("ADD", "REMOVE"):
                raise self.error(400, f"operation_type {operation!r} is not ADD or REMOVE")
            records = self.records(body.get("records"))
            (members.update if operation == "ADD" else members.difference_update)(records)
            return 200, {"id": m.group(1), "num_uploaded_user_records": len(members), "status": "PROCESSING"}
        if tail == "audiences" and method == "POST":
            return self.create(body)
        if (m := re.fullmatch(r"audiences/(\d+)", tail)) and method == "PATCH":
            audience = self.audiences.get(m.group(1))
            if audience is None or body.get("operation_type") not in (None, "UPDATE"):
                raise self.error(400, f"no audience {m.group(1)} to update")
            audience["rule"] = self.check_rule(audience["audience_type"], body.get("rule"))
            return 200, {"id": m.group(1), **audience}
        raise self.error(405, f"unsupported {method} {path}")

    def create(self, body: dict[str, Any]) -> tuple[int, Any]:
        if not body.get("name"):
            raise self.error(400, "name is required")
        audience_type = body.get("audience_type")
        rule = self.check_rule(audience_type, body.get("rule"))
        audience_id = str(next(_ids))
        self.audiences[audience_id] = {"id": audience_id, "name": body["name"], "audience_type": audience_type, "rule": rule}
        return 200, {"id": audience_id, "audience_type": audience_type, "status": "READY", "type": "audience"}

    def check_rule(self, audience_type: Any, rule: Any) -> dict[str, Any]:
        if not isinstance(rule, dict):
            raise self.error(400, "rule is required")
        if audience_type == "CUSTOMER_LIST":
            if str(rule.get("customer_list_id")) not in self.lists:
                raise self.error(400, "rule.customer_list_id is not a customer list of this ad account")
        elif audience_type == "VISITOR":
            if rule.get("visitor_source_id") not in ([TAG_ID], TAG_ID):
                raise self.error(400, "rule.visitor_source_id must be this ad account's tag")
            days = rule.get("retention_days", 180)
            if not isinstance(days, int) or not 1 <= days <= 540:
                raise self.error(400, "rule.retention_days must be 1-540")
            if "event" in rule and rule["event"] not in TAG_EVENTS:
                raise self.error(400, f"rule.event {rule['event']!r} is not a tag event")
            if set(rule) & {"exclusions", "inclusions", "exclude_event"}:
                raise self.error(400, "VISITOR rules take no inclusions or exclusions")
        elif audience_type == "ACTALIKE":
            seeds = rule.get("seed_id")
            if not isinstance(seeds, list) or not seeds or any(s not in self.audiences for s in seeds):
                raise self.error(400, "rule.seed_id must list audiences of this ad account")
            if not re.fullmatch(r"[A-Z]{2}", str(rule.get("country"))):
                raise self.error(400, "rule.country must be an ISO country code")
            pct = rule.get("percentage")
            if not isinstance(pct, int) or isinstance(pct, bool) or not 1 <= pct <= 10:
                raise self.error(400, "rule.percentage must be 1-10")
        else:
            raise self.error(400, f"audience_type {audience_type!r} is not supported")
        return rule
