"""Feed filters (which records a feed includes) and ``custom_label_0..4`` rules, as data.

A feed's ``custom_labels`` is a list of up to five rule dicts, one per label (``null`` skips one);
``LABEL_RULES`` maps each rule name to its function; ``product_set`` labels the campaigns' picks. Mapping to platform fields is ``feeds/items.py``.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from socialshop.catalog import Availability, ProductRecord


@dataclass(slots=True)
class RuleContext:
    """What label rules may look at besides the record: build time and precomputed sets."""

    now: datetime
    #: label index -> member ids, for best_seller and ids rules (computed once per build).
    members: dict[int, frozenset[str]] = field(default_factory=dict)
    #: product id -> product set name (a campaign's slug), for the product_set rule (one query per build).
    product_sets: dict[str, str] = field(default_factory=dict)


def _price(record: ProductRecord, ctx: RuleContext) -> Decimal | None:
    return record.effective_price(ctx.now)


def _on_sale(rule: dict, record: ProductRecord, *, ctx: RuleContext, index: int) -> str:
    on_sale = record.sale_price is not None and record.price is not None and record.effective_price(ctx.now) != record.price
    return str(rule.get("value", "on_sale")) if on_sale else str(rule.get("otherwise", ""))


def _new_arrival(rule: dict, record: ProductRecord, *, ctx: RuleContext, index: int) -> str:
    days = int(rule.get("days", 30))
    fresh = record.created_at is not None and record.created_at >= ctx.now - timedelta(days=days)
    return str(rule.get("value", "new_arrival")) if fresh else str(rule.get("otherwise", ""))


def _is_member(record: ProductRecord, *, ctx: RuleContext, index: int) -> bool:
    ids = ctx.members.get(index, frozenset())
    return record.id in ids or bool(record.item_group_id and record.item_group_id in ids)


def _best_seller(rule: dict, record: ProductRecord, *, ctx: RuleContext, index: int) -> str:
    return str(rule.get("value", "best_seller")) if _is_member(record, ctx=ctx, index=index) else str(rule.get("otherwise", ""))


def _price_band(rule: dict, record: ProductRecord, *, ctx: RuleContext, index: int) -> str:
    price = _price(record, ctx)
    if price is None:
        return ""
    for low, high, label in rule.get("bands", ()):
        if (low is None or price >= Decimal(str(low))) and (high is None or price < Decimal(str(high))):
            return str(label)
    return str(rule.get("otherwise", ""))


def _ids(rule: dict, record: ProductRecord, *, ctx: RuleContext, index: int) -> str:
    return str(rule.get("value", "")) if _is_member(record, ctx=ctx, index=index) else str(rule.get("otherwise", ""))


def _category(rule: dict, record: ProductRecord, *, ctx: RuleContext, index: int) -> str:
    path = " > ".join(record.category_path).casefold()
    prefix = str(rule.get("prefix", "")).casefold()
    return str(rule.get("value", "")) if prefix and path.startswith(prefix) else str(rule.get("otherwise", ""))


def _product_set(rule: dict, record: ProductRecord, *, ctx: RuleContext, index: int) -> str:
    """The product set (campaign) that picked this item, or its product group; ``otherwise`` when none."""
    sets = ctx.product_sets
    return sets.get(record.id) or (record.item_group_id and sets.get(record.item_group_id)) or str(rule.get("otherwise", ""))


def _static(rule: dict, record: ProductRecord, *, ctx: RuleContext, index: int) -> str:
    return str(rule.get("value", ""))


def _field(rule: dict, record: ProductRecord, *, ctx: RuleContext, index: int) -> str:
    value = getattr(record, str(rule.get("field", "")), "")
    return "" if value is None else str(value)


LabelRule = Callable[..., str]  # (rule, record, *, ctx, index) -> label value

# rule name -> (function, required keys). Audience or campaign membership is the "ids" rule.
LABEL_RULES: dict[str, tuple[LabelRule, tuple[str, ...]]] = {
    "on_sale": (_on_sale, ()),
    "new_arrival": (_new_arrival, ()),
    "best_seller": (_best_seller, ()),
    "price_band": (_price_band, ("bands",)),
    "ids": (_ids, ("ids", "value")),
    "category": (_category, ("prefix", "value")),
    "static": (_static, ("value",)),
    # The running campaigns' picks (feeds.models.ProductSetItem): the platforms' product sets filter on it.
    "product_set": (_product_set, ()),
    "field": (_field, ("field",)),
}
RECORD_FIELDS = frozenset(ProductRecord._fields)


def check_label_rules(rules: Any) -> list[str]:
    """Problems with a ``custom_labels`` value, as messages naming the label ([] when fine)."""
    if rules in (None, ""):
        return []
    if not isinstance(rules, list):
        return [f"custom_labels must be a list of up to 5 rules, not {type(rules).__name__}"]
    problems: list[str] = []
    if len(rules) > 5:
        problems.append(f"custom_labels has {len(rules)} rules; platforms have custom_label_0..4 only")
    for index, rule in enumerate(rules[:5]):
        if rule is None:
            continue
        # Every key is checked for its type before any lookup: a JSON object or list where a name belongs is
        # unhashable (schemathesis sent {"rule": {...}} and got a 500).
        if not isinstance(rule, dict) or not isinstance(rule.get("rule"), str) or rule["rule"] not in LABEL_RULES:
            problems.append(f"custom_label_{index}: rule must be one of {', '.join(LABEL_RULES)}, got {rule!r}"[:500])
            continue
        missing = [key for key in LABEL_RULES[rule["rule"]][1] if key not in rule]
        if missing:
            problems.append(f"custom_label_{index}: rule {rule['rule']!r} needs {', '.join(missing)}")
        if rule["rule"] == "field" and (not isinstance(rule.get("field"), str) or rule["field"] not in RECORD_FIELDS):
            problems.append(f"custom_label_{index}: {rule.get('field')!r} is not a product record field"[:500])
        for key, top in (("days", 3650), ("top", 10_000)):  # read as whole numbers when the feed is built
            value = rule.get(key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= top):
                problems.append(f"custom_label_{index}: {key} must be a whole number from 1 to {top}, got {value!r}"[:500])
        if rule["rule"] == "ids" and not isinstance(rule.get("ids"), list):
            problems.append(f"custom_label_{index}: ids must be a list of product ids")
        if rule["rule"] == "price_band":
            try:
                for low, high, _label in rule.get("bands", ()):
                    for bound in (low, high):
                        if bound is not None and (isinstance(bound, bool) or not Decimal(str(bound)).is_finite()):
                            raise ValueError(bound)  # NaN (JSON parsers take it) cannot be compared with a price
            except (ValueError, TypeError, InvalidOperation):
                problems.append(f"custom_label_{index}: bands must be [[low, high, label], ...] with numbers or null")
    return problems


def rule_context(rules: list, *, now: datetime) -> RuleContext:
    """The context for one build: ``ids`` member sets, and for each best_seller rule the ``top``
    ids by Purchase events in the last ``days`` (one grouped query each)."""
    from socialshop.tracking.reads import content_id_counts

    members: dict[int, frozenset[str]] = {}
    for index, rule in enumerate(rules[:5]):
        if rule and rule.get("rule") == "best_seller":
            counts = content_id_counts(since=now - timedelta(days=int(rule.get("days", 30))), name="Purchase")
            top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[: int(rule.get("top", 50))]
            members[index] = frozenset(cid for cid, _ in top)
        elif rule and rule.get("rule") == "ids":
            members[index] = frozenset(str(i) for i in rule.get("ids", ()))
    wants_sets = any(rule and rule.get("rule") == "product_set" for rule in rules[:5])
    return RuleContext(now=now, members=members, product_sets=product_set_labels() if wants_sets else {})


def product_set_label_index(rules: Any) -> int | None:
    """The custom_label_N index a feed's ``custom_labels`` gives the product_set rule (the first one), or None."""
    for index, rule in enumerate(rules[:5] if isinstance(rules, list) else ()):
        if isinstance(rule, dict) and rule.get("rule") == "product_set":
            return index
    return None


def product_set_labels() -> dict[str, str]:
    """product id -> the set it is labelled with: a product in several sets gets the one that picked it for
    the most persons (ties: the first name), since a custom label holds one value (one query)."""
    from socialshop.feeds.models import ProductSetItem

    labels: dict[str, str] = {}
    for product_id, name in ProductSetItem.objects.order_by("product_id", "-weight", "name").values_list("product_id", "name"):
        labels.setdefault(product_id, name)
    return labels


@dataclass(frozen=True, slots=True)
class Filters:
    """A feed's inclusion filters, read once per build."""

    categories: tuple[str, ...]
    in_stock_only: bool
    min_price: Decimal | None
    max_price: Decimal | None
    excluded: frozenset[str]

    @classmethod
    def of(cls, feed: Any) -> Filters:
        return cls(
            categories=tuple(str(c).casefold().strip() for c in (feed.categories or ()) if str(c).strip()),
            in_stock_only=bool(feed.in_stock_only),
            min_price=feed.min_price,
            max_price=feed.max_price,
            excluded=frozenset(str(i) for i in (feed.excluded_ids or ())),
        )

    @property
    def active(self) -> bool:
        """False when no filter is set (every record passes)."""
        return bool(self.categories or self.in_stock_only or self.min_price is not None
                    or self.max_price is not None or self.excluded)

    def exclusion(self, record: ProductRecord, now: datetime) -> tuple[str, str] | None:
        """(code, message) when the feed's filters leave ``record`` out, else None."""
        if record.id in self.excluded or (record.item_group_id and record.item_group_id in self.excluded):
            return "excluded_by_feed", "listed in the feed's excluded products"
        if self.in_stock_only and record.availability != Availability.IN_STOCK:
            return "not_in_stock", "feed includes in-stock items only"
        if self.categories:
            path = " > ".join(record.category_path).casefold()
            if not any(path == c or path.startswith(c + " >") for c in self.categories):
                return "category_not_included", "category is not one of the feed's categories"
        if self.min_price is not None or self.max_price is not None:
            price = record.effective_price(now)
            if price is None:
                return None  # reported as missing_price by validation
            if self.min_price is not None and price < self.min_price:
                return "below_min_price", f"price under the feed's minimum {self.min_price}"
            if self.max_price is not None and price > self.max_price:
                return "above_max_price", f"price over the feed's maximum {self.max_price}"
        return None
