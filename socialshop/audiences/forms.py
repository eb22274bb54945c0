"""Audience rule settings: ``validate_params`` checks one rule kind's parameters (shared by the admin
form and the API) and ``AudienceForm`` is the admin's change form with each kind's own fields, so no
rule is ever edited as raw JSON. The rules themselves are audiences/rules.py; the keys: docs/audiences.md.
"""
from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from socialshop.audiences.models import Audience, RuleKind
from socialshop.audiences.rules import ENGAGEMENT_ACTIONS
from socialshop.catalog import get_catalog
from socialshop.conf import app_settings
from socialshop.privacy.hashing import normalize_country
from socialshop.posts.models import Post

MAX_MINUTES = 60 * 24 * 365  # the rules' own bound for delays (audiences/rules.py)
MAX_IDS = 500  # products, categories or posts a rule may name
POST_ACTIONS = (*ENGAGEMENT_ACTIONS, "PostView")
ABANDONER_KEYS = ("min_delay_minutes", "max_delay_minutes")

# The parameter keys each kind takes (Audience.params); any other key is refused.
PARAM_KEYS: dict[str, tuple[str, ...]] = {
    RuleKind.VISITORS: (),
    RuleKind.VIEWERS: ("products", "categories"),
    RuleKind.CART_ABANDONERS: ABANDONER_KEYS,
    RuleKind.CHECKOUT_ABANDONERS: ABANDONER_KEYS,
    RuleKind.POST_ENGAGERS: ("actions", "posts"),
    RuleKind.PURCHASERS: ("recency_days", "min_orders", "min_value"),
    RuleKind.CUSTOMER_LIST: (),
    RuleKind.LOOKALIKE_SEED: ("top_percent", "lookalike_country", "lookalike_size"),
}


def _whole(value: Any, key: str, *, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high or int(value) != value:
        raise ValidationError({key: f"{value!r} is not a whole number from {low} to {high}."})
    return int(value)


def _strings(value: Any, key: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in value):
        raise ValidationError({key: "Give a list of ids."})
    out = list(dict.fromkeys(str(v).strip() for v in value if str(v).strip()))
    if len(out) > MAX_IDS:
        raise ValidationError({key: f"{len(out)} entries; at most {MAX_IDS}."})
    return out


def _category_paths(wanted: list[str]) -> set[str]:
    """The wanted category paths (lowercased) that match at least one catalogue product's category path."""
    lowered = {c.lower(): c for c in wanted}
    found: set[str] = set()
    for record in get_catalog().iter_records():
        path = " > ".join(record.category_path).lower()
        found.update(c for c in lowered if path == c or path.startswith(c + " >"))
        if len(found) == len(lowered):
            break
    return found


def _viewers(params: Mapping[str, Any]) -> dict[str, Any]:
    products = _strings(params.get("products", []), "products")
    categories = _strings(params.get("categories", []), "categories")
    if not products and not categories:
        raise ValidationError({"products": "Pick at least one product or category whose viewers to keep."})
    errors: dict[str, str] = {}
    if products:
        unknown = [p for p in products if p not in get_catalog().get_records(products)]
        if unknown:
            errors["products"] = f"Not in the catalogue: {', '.join(unknown[:10])}."
    if categories:
        matched = _category_paths(categories)
        unknown = [c for c in categories if c.lower() not in matched]
        if unknown:
            errors["categories"] = f"No product in these categories: {', '.join(unknown[:10])} (write the path as 'Women > Shoes')."
    if errors:
        raise ValidationError(errors)
    return {k: v for k, v in (("products", products), ("categories", categories)) if v}


def _abandoners(params: Mapping[str, Any], lookback_days: int) -> dict[str, Any]:
    low = _whole(params.get("min_delay_minutes", 60), "min_delay_minutes", low=0, high=MAX_MINUTES)
    high = _whole(params.get("max_delay_minutes", 7 * 24 * 60), "max_delay_minutes", low=1, high=MAX_MINUTES)
    if high <= low:
        raise ValidationError({"max_delay_minutes": "The maximum delay must be longer than the minimum delay."})
    if high > lookback_days * 24 * 60:
        raise ValidationError({"max_delay_minutes": f"The maximum delay is longer than the lookback of {lookback_days} days; "
                                                    "raise the lookback or shorten the delay."})
    return {"min_delay_minutes": low, "max_delay_minutes": high}


def _post_engagers(params: Mapping[str, Any]) -> dict[str, Any]:
    actions = _strings(params.get("actions", list(ENGAGEMENT_ACTIONS)), "actions")
    unknown = [a for a in actions if a not in POST_ACTIONS]
    if unknown or not actions:
        raise ValidationError({"actions": f"Pick actions from {', '.join(POST_ACTIONS)}" + (f"; unknown: {', '.join(unknown)}." if unknown else ".")})
    posts = _strings(params.get("posts", []), "posts")
    if posts:
        numbers = [p for p in posts if p.isascii() and p.isdigit() and len(p) <= 18]
        known = {str(pk) for pk in Post.objects.filter(pk__in=numbers).values_list("pk", flat=True)}
        missing = [p for p in posts if p not in known]
        if missing:
            raise ValidationError({"posts": f"No shoppable post with id {', '.join(missing[:10])}."})
    return {"actions": actions, **({"posts": posts} if posts else {})}


def _amount(value: Any, key: str) -> int | float:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError({key: f"{value!r} is not an amount."}) from None
    if isinstance(value, bool) or not amount.is_finite() or amount < 0 or amount > Decimal("1e9"):
        raise ValidationError({key: f"{value!r} is not an amount from 0 to 1,000,000,000."})
    amount = amount.quantize(Decimal("0.01"))
    return int(amount) if amount == amount.to_integral_value() else float(amount)


def _purchasers(params: Mapping[str, Any], lookback_days: int) -> dict[str, Any]:
    recency = _whole(params.get("recency_days", lookback_days), "recency_days", low=1, high=3650)
    if recency > lookback_days:
        raise ValidationError({"recency_days": f"Longer than the lookback of {lookback_days} days; raise the lookback."})
    return {"recency_days": recency, "min_orders": _whole(params.get("min_orders", 1), "min_orders", low=1, high=10_000),
            "min_value": _amount(params.get("min_value", 0), "min_value")}


def _lookalike_seed(params: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"top_percent": _whole(params.get("top_percent", 20), "top_percent", low=1, high=100)}
    country = params.get("lookalike_country") or ""
    if country:
        code = normalize_country(str(country)) if isinstance(country, str) else None
        if not code:
            raise ValidationError({"lookalike_country": f"{country!r} is not an ISO 3166 country code (US, DE, FR)."})
        size = params.get("lookalike_size", 0.01)
        if isinstance(size, bool) or not isinstance(size, (int, float)) or not 0.01 <= size <= 0.2:
            raise ValidationError({"lookalike_size": f"{size!r} is not a share from 0.01 (1 %) to 0.20 (20 %) of the country."})
        out.update(lookalike_country=code.upper(), lookalike_size=round(float(size), 4))
    elif "lookalike_size" in params:
        raise ValidationError({"lookalike_country": "A lookalike size needs the country to find lookalikes in."})
    return out


def validate_params(kind: str, params: Any, *, lookback_days: int = 30) -> dict[str, Any]:
    """``params`` checked and normalised for rule ``kind``; ``ValidationError`` keyed by parameter otherwise."""
    if kind not in PARAM_KEYS:
        raise ValidationError({"kind": f"{kind!r} is not a rule kind; use {', '.join(PARAM_KEYS)}."})
    if not isinstance(params, Mapping):
        raise ValidationError({"params": "Give the rule's settings as an object."})
    unknown = sorted(set(params) - set(PARAM_KEYS[kind]))
    if unknown:
        allowed = ", ".join(PARAM_KEYS[kind]) or "none"
        raise ValidationError({"params": f"{', '.join(map(str, unknown))} do not apply to {RuleKind(kind).label!r} (it takes: {allowed})."})
    if kind == RuleKind.VIEWERS:
        return _viewers(params)
    if kind in (RuleKind.CART_ABANDONERS, RuleKind.CHECKOUT_ABANDONERS):
        return _abandoners(params, lookback_days)
    if kind == RuleKind.POST_ENGAGERS:
        return _post_engagers(params)
    if kind == RuleKind.PURCHASERS:
        return _purchasers(params, lookback_days)
    if kind == RuleKind.LOOKALIKE_SEED:
        return _lookalike_seed(params)
    return {}


class IdListField(forms.CharField):
    """Several ids or names, one per line or comma separated, as a list."""

    widget = forms.Textarea(attrs={"rows": 3, "cols": 60})

    def __init__(self, *, separators: str = ",\n", **kwargs: Any) -> None:
        self.separators = separators
        super().__init__(required=False, **kwargs)

    def prepare_value(self, value: Any) -> Any:
        return "\n".join(str(v) for v in value) if isinstance(value, (list, tuple)) else value

    def to_python(self, value: Any) -> list[str]:
        text = super().to_python(value) or ""
        for sep in self.separators[1:]:
            text = text.replace(sep, self.separators[0])
        return [part.strip() for part in text.split(self.separators[0]) if part.strip()]


UNITS = (("minutes", "minutes"), ("hours", "hours"))
UNIT_MINUTES = {"minutes": 1, "hours": 60}


def _delay_initial(minutes: int) -> tuple[int, str]:
    return (minutes // 60, "hours") if minutes % 60 == 0 else (minutes, "minutes")


# Form field -> the parameter it fills (and whose error it shows).
FIELD_PARAMS: dict[str, str] = {
    "products": "products", "categories": "categories", "min_delay": "min_delay_minutes", "max_delay": "max_delay_minutes",
    "post_actions": "actions", "posts": "posts", "recency_days": "recency_days", "min_orders": "min_orders",
    "min_value": "min_value", "top_percent": "top_percent", "lookalike_country": "lookalike_country",
    "lookalike_percent": "lookalike_size",
}
# The form fields shown for each kind (the admin shows only the chosen kind's group).
KIND_FIELDS: dict[str, tuple[str, ...]] = {
    RuleKind.VIEWERS: ("products", "categories"),
    RuleKind.CART_ABANDONERS: ("min_delay", "min_delay_unit", "max_delay", "max_delay_unit"),
    RuleKind.CHECKOUT_ABANDONERS: ("min_delay", "min_delay_unit", "max_delay", "max_delay_unit"),
    RuleKind.POST_ENGAGERS: ("post_actions", "posts"),
    RuleKind.PURCHASERS: ("recency_days", "min_orders", "min_value"),
    RuleKind.LOOKALIKE_SEED: ("top_percent", "lookalike_country", "lookalike_percent"),
}


class AudienceForm(forms.ModelForm):
    """The rule as ordinary fields per kind; ``clean`` turns the chosen kind's fields into ``Audience.params``."""

    products = IdListField(label="Products", help_text="Catalog ids (as in the feeds), one per line; viewers of any of them qualify.")
    categories = IdListField(separators="\n", label="Categories",
                             help_text="Category paths, one per line ('Women > Shoes'); viewers of any product in them qualify.")
    min_delay = forms.IntegerField(required=False, min_value=0, initial=1, label="At least")
    min_delay_unit = forms.ChoiceField(choices=UNITS, initial="hours", label="unit", required=False)
    max_delay = forms.IntegerField(required=False, min_value=1, initial=168, label="At most",
                                   help_text="How long ago the cart (or checkout) was left, with no purchase since.")
    max_delay_unit = forms.ChoiceField(choices=UNITS, initial="hours", label="unit", required=False)
    post_actions = forms.MultipleChoiceField(choices=[(a, a) for a in POST_ACTIONS], required=False, initial=list(ENGAGEMENT_ACTIONS),
                                        widget=forms.CheckboxSelectMultiple, label="Post actions",
                                        help_text="PostView is reach, not engagement; leave it off for engagers.")
    posts = forms.ModelMultipleChoiceField(queryset=Post.objects.order_by("-pk"), required=False, label="Only these posts",
                                           help_text="Empty: engagement with any shoppable post.")
    recency_days = forms.IntegerField(required=False, min_value=1, max_value=3650, label="Bought within (days)")
    min_orders = forms.IntegerField(required=False, min_value=1, initial=1, label="At least this many orders")
    min_value = forms.DecimalField(required=False, min_value=0, decimal_places=2, initial=0, label="Spent at least",
                                   help_text="In the store's currency, over the lookback.")
    top_percent = forms.IntegerField(required=False, min_value=1, max_value=100, initial=20, label="Top % of customers by value")
    lookalike_country = forms.CharField(required=False, max_length=40, label="Lookalike country",
                                        help_text="ISO code (US, DE); empty: no lookalike is made from this seed.")
    lookalike_percent = forms.IntegerField(required=False, min_value=1, max_value=20, initial=1, label="Lookalike size (%)",
                                           help_text="Share of the country's people the platform expands to (1 % is the closest match).")

    class Meta:
        model = Audience
        fields = ("name", "slug", "kind", "enabled", "lookback_days", "include", "exclude", "exclude_purchasers_days",
                  "rebuild_every_minutes")
        widgets = {"include": forms.CheckboxSelectMultiple, "exclude": forms.CheckboxSelectMultiple}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "min_value" in self.fields:
            self.fields["min_value"].label = f"Spent at least ({app_settings.CURRENCY})"
        if "posts" in self.fields:
            self.fields["posts"].label_from_instance = lambda post: f"#{post.pk} {post.slug}"
        params = dict(self.instance.params or {}) if self.instance.pk else {}
        for key in ("min_delay", "max_delay"):
            if f"{key}_minutes" in params:
                self.initial[key], self.initial[f"{key}_unit"] = _delay_initial(int(params[f"{key}_minutes"]))
        for field, key in FIELD_PARAMS.items():
            if key in params and field not in ("min_delay", "max_delay", "lookalike_percent", "posts"):
                self.initial[field] = params[key]
        if "posts" in params:
            self.initial["posts"] = [p for p in params["posts"] if str(p).isascii() and str(p).isdigit()]
        if "lookalike_size" in params:
            self.initial["lookalike_percent"] = round(float(params["lookalike_size"]) * 100)
        for name in ("include", "exclude"):
            if name in self.fields and self.instance.pk:
                self.fields[name].queryset = self.fields[name].queryset.exclude(pk=self.instance.pk)

    def _raw_params(self, kind: str) -> dict[str, Any]:
        data = self.cleaned_data
        raw: dict[str, Any] = {}
        for field in KIND_FIELDS.get(kind, ()):
            value = data.get(field)
            if field in ("min_delay", "max_delay"):
                if value is not None:
                    raw[f"{field}_minutes"] = int(value) * UNIT_MINUTES[data.get(f"{field}_unit") or "hours"]
            elif field.endswith("_unit"):
                continue
            elif field == "posts":
                if value:
                    raw["posts"] = [str(p.pk) for p in value]
            elif field == "lookalike_percent":
                if data.get("lookalike_country"):
                    raw["lookalike_size"] = (value or 1) / 100
            elif value not in (None, "", []):
                raw[FIELD_PARAMS[field]] = value
        return raw

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        kind = data.get("kind")
        if not kind or self.errors.get("lookback_days"):
            return data
        for name in ("include", "exclude"):
            if self.instance.pk and any(a.pk == self.instance.pk for a in data.get(name) or ()):
                self.add_error(name, "An audience cannot include or exclude itself.")
        try:
            self.instance.params = validate_params(kind, self._raw_params(kind), lookback_days=data.get("lookback_days") or 30)
        except ValidationError as exc:
            by_param = {param: field for field, param in FIELD_PARAMS.items()}
            for key, messages in exc.message_dict.items():
                field = by_param.get(key)
                self.add_error(field if field in self.fields else None, messages)
        return data
