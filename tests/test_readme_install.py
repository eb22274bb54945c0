"""The README's install section can be copied as it is: its platform dicts pass ``manage.py check``,
and the ``items=`` shape it shows is what ``{% socialshop_event %}`` reads (a wrong one warns)."""
from __future__ import annotations

import ast
import json
import logging
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.template import Context, Template

from socialshop.checks import check_settings
from socialshop.platforms import REGISTRY
from socialshop.templatetags import tracking_tags

README = Path(__file__).resolve().parent.parent / "README.md"


def _install_section() -> str:
    text = README.read_text()
    return text[text.index("## Install into an existing store"):text.index("### Templates")]


def _readme_platforms() -> dict[str, Any]:
    """The ``"PLATFORMS": {...}`` literal of the install section's settings block."""
    section = _install_section()
    start = section.index('"PLATFORMS": {') + len('"PLATFORMS": ')
    depth = 0
    for end, char in enumerate(section[start:], start):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth == 0:
            break
    source = re.sub(r"#[^\n]*", "", section[start:end + 1])  # comments (no '#' inside the values)
    return ast.literal_eval(source)


def test_readme_platform_dicts_pass_the_checks(settings: Any) -> None:
    platforms = _readme_platforms()
    assert set(platforms) == set(REGISTRY)
    assert not any(value is Ellipsis for entry in platforms.values() for value in [entry, *entry.values()])
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "PLATFORMS": platforms}
    assert [f"{m.id}: {m.msg}" for m in check_settings()] == []


def test_readme_platform_dicts_name_every_required_key() -> None:
    for slug, entry in _readme_platforms().items():
        required = {key for capability in REGISTRY[slug].capabilities.values() if not capability.opt_in
                    for key in capability.required_settings}
        assert required <= set(entry), slug
        assert all(isinstance(v, str) and v for v in entry.values()), slug


def _event(source: str, **context: Any) -> dict[str, Any]:
    html = Template("{% load socialshop %}" + source).render(Context(context))
    return json.loads(re.search(r"data-socialshop-event>(.*)</script>", html).group(1))["data"]


@pytest.mark.django_db
def test_items_in_the_readme_shape_become_contents(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(tracking_tags, "_reported", set())
    lines = [{"id": "TEE-RED-M", "quantity": 2, "item_price": Decimal("19.00")}]
    with caplog.at_level(logging.WARNING):
        data = _event('{% socialshop_event "InitiateCheckout" items=lines %}', lines=lines)
    assert data["contents"] == [{"id": "TEE-RED-M", "quantity": 2, "item_price": 19.0}]
    assert data["value"] == 38.0 and not caplog.records


@pytest.mark.django_db
def test_items_of_a_wrong_shape_warn_once_naming_the_tag_and_the_problem(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(tracking_tags, "_reported", set())
    lines = [{"sku": "TEE-RED-M", "qty": 2}]
    with caplog.at_level(logging.WARNING, logger="socialshop.templatetags.tracking_tags"):
        for _ in range(3):
            data = _event('{% socialshop_event "Purchase" order_id="A1" items=lines %}', lines=lines)
    assert data["contents"] == []
    [record] = caplog.records
    message = record.getMessage()
    assert "{% socialshop_event 'Purchase' items=... %}" in message
    assert "item 0 (keys ['qty', 'sku']) has no catalog id" in message and "{'id': catalog id" in message


@pytest.mark.django_db
def test_items_that_are_not_a_list_or_have_bad_numbers_warn_instead_of_failing(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(tracking_tags, "_reported", set())
    with caplog.at_level(logging.WARNING, logger="socialshop.templatetags.tracking_tags"):
        assert _event('{% socialshop_event "Purchase" items=missing %}')["contents"] == []  # undefined -> ""
        bad = _event('{% socialshop_event "Purchase" items=lines %}',
                     lines=[{"id": "A", "quantity": "two", "item_price": "cheap"}])
    assert bad["contents"] == [{"id": "A", "quantity": 1}]
    messages = [r.getMessage() for r in caplog.records]
    assert any("items is a str, not a list" in m for m in messages)
    assert any("quantity 'two' is not a whole number" in m for m in messages)
    assert any("item_price 'cheap' is not a number" in m for m in messages)
