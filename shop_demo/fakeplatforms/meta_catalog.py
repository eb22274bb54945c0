"""Meta catalogue product sets as the Marketing API documents them: POST /<version>/<catalog_id>/product_sets
(``name``, ``filter``: a JSON rule) answers {"id"}; POST /<version>/<product_set_id> updates one.

Checks the rule's shape: a field (custom_label_0..4 and the other documented item fields) with one operator
and its value, or "and"/"or" lists of rules.
"""
from __future__ import annotations

import itertools
import threading
from typing import Any

from shop_demo.fakeplatforms.common import Invalid

FIELDS = {*(f"custom_label_{n}" for n in range(5)), "retailer_id", "product_type", "brand", "availability",
          "category", "name", "price", "sale_price", "condition", "product_item_id"}
TEXT_OPERATORS = {"eq", "neq", "i_contains", "i_not_contains", "contains", "not_contains", "i_starts_with", "starts_with"}
LIST_OPERATORS = {"is_any", "is_not_any"}
NUMBER_OPERATORS = {"lt", "lte", "gt", "gte"}
MAX_FILTER_BYTES = 500 * 1024


def check_rule(rule: Any, where: str = "filter") -> None:
    """Raise ``Invalid`` naming the place of the first thing Meta would refuse in a product set rule."""
    if not isinstance(rule, dict) or len(rule) != 1:
        raise Invalid(f"{where}: a rule is an object with exactly one field or 'and'/'or', got {rule!r}")
    (key, value), = rule.items()
    if key in ("and", "or"):
        if not isinstance(value, list) or not value:
            raise Invalid(f"{where}.{key}: must be a non-empty list of rules")
        for i, sub in enumerate(value):
            check_rule(sub, f"{where}.{key}[{i}]")
        return
    if key not in FIELDS:
        raise Invalid(f"{where}: {key!r} is not a field product sets can filter on")
    if not isinstance(value, dict) or len(value) != 1:
        raise Invalid(f"{where}.{key}: give exactly one operator, e.g. {{'eq': 'value'}}")
    (operator, operand), = value.items()
    if operator in TEXT_OPERATORS:
        ok = isinstance(operand, str) and operand != ""
    elif operator in LIST_OPERATORS:
        ok = isinstance(operand, list) and bool(operand) and all(isinstance(v, str) for v in operand)
    elif operator in NUMBER_OPERATORS:
        ok = isinstance(operand, (int, float)) and not isinstance(operand, bool)
    else:
        raise Invalid(f"{where}.{key}: {operator!r} is not a product set operator")
    if not ok:
        raise Invalid(f"{where}.{key}.{operator}: {operand!r} is not a valid value for this operator")


class FakeMetaCatalog:
    """The product sets one catalogue holds: id -> {"name", "filter"}."""

    def __init__(self) -> None:
        self.sets: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(770000000000001)
        self.lock = threading.Lock()

    def _checked(self, body: Any) -> tuple[str, dict[str, Any]]:
        if not isinstance(body, dict):
            raise Invalid("the body must be an object with name and filter")
        name, rule = body.get("name"), body.get("filter")
        if not isinstance(name, str) or not name.strip() or len(name) > 100:
            raise Invalid(f"name {name!r} must be 1 to 100 characters")
        check_rule(rule)
        if len(repr(rule).encode()) > MAX_FILTER_BYTES:
            raise Invalid("filter is larger than 500 KiB")
        return name, rule

    def create(self, body: Any) -> tuple[int, Any]:
        name, rule = self._checked(body)
        with self.lock:
            set_id = str(next(self._ids))
            self.sets[set_id] = {"name": name, "filter": rule}
        return 200, {"id": set_id}

    def update(self, set_id: str, body: Any) -> tuple[int, Any]:
        if set_id not in self.sets:
            raise Invalid(f"Unsupported post request. Object with ID '{set_id}' does not exist")
        name, rule = self._checked(body)
        with self.lock:
            self.sets[set_id] = {"name": name, "filter": rule}
        return 200, {"success": True}
