"""The feed admin form: categories picked from the catalogue, excluded ids one per line, and custom-label
rules as rows (core/widgets.py) instead of raw JSON; each converts to the stored format of feeds/rules.py."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from itertools import islice
from typing import Any

from django import forms

from socialshop.catalog import get_catalog
from socialshop.core.widgets import Column, RuleRowsField
from socialshop.feeds.models import Feed
from socialshop.feeds.rules import LABEL_RULES, RECORD_FIELDS, check_label_rules

CATEGORY_SCAN = 20000  # catalogue records read to list the category paths to pick from
LABELS = 5  # custom_label_0..4
# rule -> what its "setting" column holds (and the stored key), shown as help and used to convert
SETTINGS: dict[str, tuple[str, str]] = {
    "new_arrival": ("days", "days since the product was added (default 30)"),
    "price_band": ("bands", "bands as low-high:label; ... e.g. 0-25:budget; 25-100:mid; 100-:premium"),
    "ids": ("ids", "catalog ids, comma-separated"),
    "category": ("prefix", "category path prefix, e.g. Women > Dresses"),
    "field": ("field", "a product record field, e.g. brand"),
}


def category_choices(current: list[str]) -> list[tuple[str, str]]:
    """Every category path (and its parents) in the catalogue, plus the feed's current values."""
    paths: set[str] = set(current)
    for record in islice(get_catalog().iter_records(), CATEGORY_SCAN):
        for depth in range(1, len(record.category_path) + 1):
            paths.add(" > ".join(record.category_path[:depth]))
    return [(p, p) for p in sorted(paths, key=str.casefold)]


def rules_to_rows(stored: Any) -> list[dict[str, Any]]:
    """The stored ``custom_labels`` list as rows for the widget (one row per label in use)."""
    rows = []
    for index, rule in enumerate(stored if isinstance(stored, list) else []):
        if not isinstance(rule, dict):
            continue
        key = SETTINGS.get(rule.get("rule", ""), ("", ""))[0]
        setting = rule.get(key, "") if key else ""
        if key == "bands":
            setting = "; ".join(f"{'' if lo is None else lo}-{'' if hi is None else hi}:{label}" for lo, hi, label in setting)
        elif key == "ids":
            setting = ", ".join(map(str, setting))
        rows.append({"label": str(index), "rule": rule.get("rule", ""), "setting": setting,
                     "value": rule.get("value", ""), "otherwise": rule.get("otherwise", "")})
    return rows


def _bands(text: str, where: str) -> list[list[Any]]:
    bands = []
    for part in filter(None, (p.strip() for p in text.split(";"))):
        bounds, sep, label = part.partition(":")
        low, dash, high = bounds.partition("-")
        if not sep or not dash or not label.strip():
            raise forms.ValidationError(f"{where}: {part!r} is not low-high:label (e.g. 25-100:mid)")
        try:
            bands.append([str(Decimal(low)) if low.strip() else None, str(Decimal(high)) if high.strip() else None, label.strip()])
        except InvalidOperation:
            raise forms.ValidationError(f"{where}: the bounds in {part!r} must be numbers") from None
    if not bands:
        raise forms.ValidationError(f"{where}: give at least one band, e.g. 0-25:budget")
    return bands


def rows_to_rules(rows: list[dict[str, str]]) -> list[dict[str, Any] | None]:
    """Rows back to the stored list (index = label number, ``None`` for an unused label), validated."""
    rules: list[dict[str, Any] | None] = [None] * LABELS
    for number, row in enumerate(rows, start=1):
        where = f"Row {number}"
        if not row.get("label"):
            raise forms.ValidationError(f"{where}: pick which custom label it sets.")
        if not row.get("rule"):
            raise forms.ValidationError(f"{where}: pick a rule.")
        index = int(row["label"])
        if rules[index] is not None:
            raise forms.ValidationError(f"{where}: custom_label_{index} already has a rule; one rule per label.")
        rule: dict[str, Any] = {"rule": row["rule"]}
        for key in ("value", "otherwise"):
            if row.get(key):
                rule[key] = row[key]
        key = SETTINGS.get(row["rule"], ("", ""))[0]
        setting = row.get("setting", "")
        if key and setting:
            if key == "days":
                if not setting.isdigit() or int(setting) < 1:
                    raise forms.ValidationError(f"{where}: days must be a whole number of days, got {setting!r}")
                rule[key] = int(setting)
            elif key == "bands":
                rule[key] = _bands(setting, where)
            elif key == "ids":
                rule[key] = [i.strip() for i in setting.split(",") if i.strip()]
            else:
                rule[key] = setting
        elif setting:
            raise forms.ValidationError(f"{where}: the {row['rule']!r} rule takes no setting; clear it.")
        if row["rule"] == "field" and rule.get("field") not in RECORD_FIELDS:
            raise forms.ValidationError(f"{where}: {setting!r} is not a product field; try one of brand, color, gender.")
        rules[index] = rule
    while rules and rules[-1] is None:
        rules.pop()
    problems = check_label_rules(rules)
    if problems:
        raise forms.ValidationError(problems)
    return rules


class IdListField(forms.CharField):
    """Catalog ids, one per line (commas also split), stored as a list."""

    widget = forms.Textarea(attrs={"rows": 4, "cols": 40, "placeholder": "one catalog id per line"})

    def prepare_value(self, value: Any) -> Any:
        return "\n".join(map(str, value)) if isinstance(value, list) else value

    def to_python(self, value: Any) -> list[str]:
        text = super().to_python(value)
        ids = [i.strip() for line in text.splitlines() for i in line.split(",") if i.strip()]
        if any(len(i) > 100 for i in ids):
            raise forms.ValidationError("A catalog id is at most 100 characters; put one id per line.")
        return list(dict.fromkeys(ids))


class FeedForm(forms.ModelForm):
    """Feed settings with form widgets for the list-valued fields."""

    categories = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple(attrs={"class": "ss-category-picks"}),
        help_text="Pick the categories to include (a parent includes its subcategories); none picked: all.",
    )
    excluded_ids = IdListField(required=False, help_text="Catalog ids or item group ids to leave out, one per line.")
    custom_labels = RuleRowsField(
        [Column("label", "Label", [(str(i), f"label {i}") for i in range(LABELS)], width="6.5em",
                help="which custom_label_0..4 the rule sets"),
         Column("rule", "Rule", [(name, name.replace("_", " ")) for name in LABEL_RULES], width="8.5em"),
         Column("setting", "Setting", help="; ".join(f"{r.replace('_', ' ')}: {h}" for r, (_, h) in SETTINGS.items()),
                width="13em"),
         Column("value", "Value", help="the label when the rule matches", width="7em"),
         Column("otherwise", "Otherwise", help="the label when it does not (optional)", width="7em")],
        to_rows=rules_to_rows, from_rows=rows_to_rules, extra=1,
        help_text="Up to five rules, one per custom_label_0..4, used to group products in campaigns.",
    )

    class Meta:
        model = Feed
        fields = "__all__"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        current = list(self.instance.categories or []) if self.instance else []
        self.fields["categories"].choices = category_choices(current)
