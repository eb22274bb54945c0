"""The custom-label rules' check (feeds/rules.py ``check_label_rules``) on any JSON the API or admin can be sent:
it answers with messages, never an exception, and what it passes builds."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from hypothesis import example, given, settings, strategies as st

from socialshop.feeds.rules import LABEL_RULES, check_label_rules

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                    max_leaves=20)
KEYS = st.sampled_from(["rule", "value", "otherwise", "days", "top", "ids", "bands", "prefix", "field"])
# Rules shaped like real ones (known names and keys) with any values, besides arbitrary JSON.
RULE = st.one_of(JSON, st.dictionaries(KEYS, JSON | st.sampled_from(sorted(LABEL_RULES)), max_size=5))


@settings(max_examples=400, deadline=None)
@given(st.one_of(JSON, st.lists(RULE, max_size=7)))
def test_any_json_gets_messages_never_an_exception(rules: Any) -> None:
    problems = check_label_rules(rules)
    assert isinstance(problems, list) and all(isinstance(p, str) and len(p) <= 500 for p in problems)


@settings(max_examples=300, deadline=None)
@given(st.lists(RULE, max_size=5))
@example([{"rule": "price_band", "bands": [[float("nan"), None, "x"]]}])  # NaN passed the check and failed the build
@example([{"rule": "price_band", "bands": [[True, 10, "x"]]}])
def test_rules_that_pass_the_check_label_any_product(rules: Any) -> None:
    from socialshop.catalog import ProductRecord
    from socialshop.feeds.rules import RuleContext

    if check_label_rules(rules):
        return
    now = datetime(2026, 11, 29, tzinfo=timezone.utc)
    record = ProductRecord(id="SKU-1", title="t", description="d", url="/p", image_urls=(), price=Decimal("30"), currency="USD",
                           sale_price=Decimal("20"), category_path=("Women", "Shoes"), created_at=now)
    members = {i: frozenset(str(x) for x in r.get("ids", ())) for i, r in enumerate(rules) if r and r.get("rule") == "ids"}
    ctx = RuleContext(now=now, members=members)
    for index, rule in enumerate(rules):
        if rule:
            assert isinstance(LABEL_RULES[rule["rule"]][0](rule, record, ctx=ctx, index=index), str)
