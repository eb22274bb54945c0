"""Meta product sets: a set in the Commerce catalogue filtered on a custom label, for Advantage+ catalogue
(dynamic) ads. Graph API ``POST /{catalog_id}/product_sets`` with ``name`` and ``filter`` (a JSON rule, at
most 500 KiB), update with ``POST /{product_set_id}``; answer ``{"id": ...}`` (Marketing API reference,
Product Catalog Product Sets). Error 80009 is the catalogue's rate limit (retry later).
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

from django.core.checks import Error

from socialshop.platforms.http import ApiCall, PlatformAPIError
from socialshop.platforms.meta.graph import GraphApi
from socialshop.platforms.product_sets import ProductSets, SetRule

# Meta: 80009 "too many calls to this Catalog account" is temporary.
CATALOG_RATE_LIMIT = 80009


class MetaProductSets(GraphApi, ProductSets):
    required_settings: ClassVar[tuple[str, ...]] = ("catalog_id", "access_token")
    max_name_length: ClassVar[int] = 100

    @classmethod
    def check_values(cls, entry: Mapping[str, Any], key: str) -> list[Any]:
        """socialshop.E165: ``catalog_id`` is the catalogue's number from Commerce Manager."""
        value = entry.get("catalog_id")
        if value in (None, "") or re.fullmatch(r"[0-9]+", str(value)):
            return []
        return [Error(f"{key}['catalog_id'] = {value!r} is not a Meta catalogue id",
                      hint="Use the number shown in Commerce Manager > Catalogue > Settings, e.g. '1234567890'.",
                      id="socialshop.E165")]

    def error_flags(self, status: int, body: Any) -> tuple[bool, bool]:
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict) and error.get("code") == CATALOG_RATE_LIMIT:
            return True, False
        return super().error_flags(status, body)

    def set_filter(self, rule: SetRule) -> dict[str, Any]:
        """Meta's filter: an exact match (``eq``) of the label, so a slug never matches a longer one."""
        return {rule.label_field: {"eq": rule.value}}

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        status, answer = self.call(ApiCall("POST", path, params={"access_token": str(self.setting("access_token"))}, body=body))
        if not isinstance(answer, dict):
            raise PlatformAPIError(self.name, f"unexpected answer {answer!r}", status=status, retryable=True)
        return answer

    def create_product_set(self, name: str, rule: SetRule) -> str:
        catalog = str(self.setting("catalog_id"))
        answer = self._post(self.graph_path(f"{catalog}/product_sets"),
                            {"name": name[: self.max_name_length], "filter": self.set_filter(rule)})
        if not answer.get("id"):
            raise PlatformAPIError(self.name, f"no id in {answer!r}", retryable=True)
        return str(answer["id"])

    def update_product_set(self, set_id: str, name: str, rule: SetRule) -> None:
        self._post(self.graph_path(str(set_id)), {"name": name[: self.max_name_length], "filter": self.set_filter(rule)})
