"""Admin form widgets for structured settings: ``RuleRowsField`` edits a list of small dicts as table rows
(pick from selects, type values, "Add a row"), so nobody edits raw JSON in a text box.

Feeds use it for custom-label rules (feeds/admin.py); audiences and campaigns reuse it for their rules.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django import forms
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

MAX_ROWS = 50  # a posted TOTAL above this is refused (bad input, never a 500)

_ADD_ROW_JS = """<script>
document.addEventListener("click", function (e) {
  var b = e.target.closest("[data-ss-add-row]"); if (!b) return; e.preventDefault();
  var t = document.getElementById(b.dataset.ssAddRow), body = t.querySelector("tbody"), total = t.querySelector("[data-ss-total]");
  var n = parseInt(total.value, 10), row = t.querySelector("template").content.firstElementChild.cloneNode(true);
  row.querySelectorAll("[name]").forEach(function (el) { el.name = el.name.replace("__i__", n); el.id = el.id.replace("__i__", n); });
  body.appendChild(row); total.value = n + 1;
});
</script>"""


class Rows(list):
    """Rows as posted (a list of ``{column: text}``), told apart from a stored value by its type."""


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a rule row: ``name`` is the dict key; ``choices`` makes it a select."""

    name: str
    label: str
    choices: Sequence[tuple[str, str]] = ()
    help: str = ""
    width: str = "12em"


class RuleRowsWidget(forms.Widget):
    """Renders ``[{column: value}, ...]`` as table rows plus ``extra`` blank rows and an "Add a row" button."""

    def __init__(self, columns: Sequence[Column], *, extra: int = 1, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        self.columns = list(columns)
        self.extra = extra

    def _cell(self, name: str, index: int | str, column: Column, value: Any) -> SafeString:
        field_name = f"{name}-{index}-{column.name}"
        attrs = {"id": f"id_{field_name}", "aria-label": column.label, "style": f"width:{column.width};max-width:100%"}
        if column.choices:
            widget: forms.Widget = forms.Select(choices=[("", "---------"), *column.choices], attrs=attrs)
        else:
            widget = forms.TextInput(attrs=attrs)
        return widget.render(field_name, "" if value is None else str(value))

    def _row(self, name: str, index: int | str, row: Mapping[str, Any]) -> SafeString:
        cells = format_html_join("", "<td>{}</td>", ((self._cell(name, index, c, row.get(c.name)),) for c in self.columns))
        return format_html("<tr>{}</tr>", cells)

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        rows = [r for r in (value or []) if isinstance(r, Mapping)] if isinstance(value, list) else []
        rows += [{}] * self.extra
        table_id = f"ss-rows-{name}"
        head = format_html_join("", '<th scope="col" title="{}">{}</th>', ((c.help, c.label) for c in self.columns))
        body = format_html_join("", "{}", ((self._row(name, i, r),) for i, r in enumerate(rows)))
        helps = format_html_join("", "<li><b>{}</b>: {}</li>", ((c.label, c.help) for c in self.columns if c.help))
        return format_html(
            '<div class="ss-rule-rows" id="{}" style="max-width:100%;overflow-x:auto">'
            '<input type="hidden" name="{}-TOTAL" value="{}" data-ss-total>'
            "<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>"
            "<template>{}</template>"
            '<p><button type="button" class="button" data-ss-add-row="{}">Add a row</button> '
            "Leave a row empty to remove it.</p><ul class=\"help\" style=\"margin:0;padding-left:1.2em\">{}</ul></div>{}",
            table_id, name, len(rows), head, body, self._row(name, "__i__", {}), table_id, helps, mark_safe(_ADD_ROW_JS),
        )

    def value_from_datadict(self, data: Mapping[str, Any], files: Any, name: str) -> Rows | str:
        try:
            total = int(data.get(f"{name}-TOTAL", 0))
        except (TypeError, ValueError):
            return "invalid"
        if not 0 <= total <= MAX_ROWS:
            return "invalid"
        rows = Rows()
        for index in range(total):
            row = {c.name: str(data.get(f"{name}-{index}-{c.name}", "")).strip() for c in self.columns}
            if any(row.values()):
                rows.append(row)
        return rows

    def value_omitted_from_data(self, data: Mapping[str, Any], files: Any, name: str) -> bool:
        return f"{name}-TOTAL" not in data


class RuleRowsField(forms.Field):
    """A list of row dicts edited with ``RuleRowsWidget``.

    ``to_rows(stored) -> rows`` shows the stored value; ``from_rows(rows) -> stored`` converts back and
    raises ``forms.ValidationError`` naming the row for bad input.
    """

    def __init__(self, columns: Sequence[Column], *, to_rows: Callable[[Any], list[dict[str, Any]]],
                 from_rows: Callable[[list[dict[str, str]]], Any], extra: int = 1, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(widget=RuleRowsWidget(columns, extra=extra), **kwargs)
        self.columns, self.to_rows, self.from_rows = list(columns), to_rows, from_rows

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, Rows):
            return value  # as posted: a form shown again with its errors keeps what was typed
        return self.to_rows(value)

    def to_python(self, value: Any) -> Any:
        if value == "invalid":
            raise forms.ValidationError("The rows could not be read; reload the page and try again.")
        for number, row in enumerate(value or [], start=1):
            for column in self.columns:
                if column.choices and row.get(column.name) and row[column.name] not in {k for k, _ in column.choices}:
                    raise forms.ValidationError(f"Row {number}: {row[column.name]!r} is not a valid {column.label.lower()}.")
        return self.from_rows(list(value or []))

    def has_changed(self, initial: Any, data: Any) -> bool:
        try:
            return self.to_python(data) != initial
        except forms.ValidationError:
            return True
