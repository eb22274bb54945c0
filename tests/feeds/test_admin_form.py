"""Feed settings edited with form widgets (feeds/forms.py over core/widgets.py), not raw JSON:
categories picked from the catalogue, excluded ids one per line, custom-label rules as rows."""
from __future__ import annotations

from typing import Any

import pytest
from django.forms.models import model_to_dict

from socialshop.feeds.forms import FeedForm
from socialshop.feeds.models import Feed
from tests.feeds.conftest import make_feed, make_product

pytestmark = pytest.mark.django_db


def _data(feed: Feed, **changes: Any) -> dict[str, Any]:
    data = {k: v for k, v in model_to_dict(feed).items() if v is not None and k not in ("categories", "custom_labels", "excluded_ids")}
    data.update({"categories": [], "excluded_ids": "", "custom_labels-TOTAL": "0"})
    data.update(changes)
    return data


def _rows(*rows: dict[str, str]) -> dict[str, str]:
    out = {"custom_labels-TOTAL": str(len(rows))}
    for i, row in enumerate(rows):
        out.update({f"custom_labels-{i}-{k}": v for k, v in row.items()})
    return out


def test_change_page_offers_pickers_and_rule_rows_instead_of_json(admin_client: Any) -> None:
    product = make_product()
    feed = make_feed(custom_labels=[{"rule": "on_sale", "value": "sale"}, None, {"rule": "new_arrival", "days": 14}])
    html = admin_client.get(f"/admin/socialshop/feed/{feed.pk}/change/").content.decode()
    path = " > ".join(p.strip() for p in product.category.path.split(">")) if ">" in product.category.path else product.category.path
    assert f'type="checkbox" name="categories" value="{path}"' in html  # categories picked from the catalogue
    assert 'name="custom_labels-TOTAL" value="3"' in html and "Add a row" in html
    assert 'name="custom_labels-1-setting" value="14"' in html  # custom_label_2's days
    assert '<textarea name="custom_labels"' not in html and "[{&quot;rule&quot;" not in html


def test_rows_save_as_the_rule_format_of_feeds_rules() -> None:
    feed = make_feed()
    form = FeedForm(_data(feed, categories=["Women"], excluded_ids="SKU-1\nSKU-2, SKU-3\n\nSKU-1", **_rows(
        {"label": "0", "rule": "on_sale", "value": "sale", "otherwise": "full_price"},
        {"label": "", "rule": "", "setting": "", "value": "", "otherwise": ""},  # an empty row is dropped
        {"label": "3", "rule": "price_band", "setting": "0-25:budget; 25-100:mid; 100-:premium"},
        {"label": "1", "rule": "new_arrival", "setting": "14", "value": "new"},
    )), instance=feed)
    form.fields["categories"].choices = [("Women", "Women")]
    assert form.is_valid(), form.errors
    saved = form.save()
    assert saved.categories == ["Women"] and saved.excluded_ids == ["SKU-1", "SKU-2", "SKU-3"]
    assert saved.custom_labels == [
        {"rule": "on_sale", "value": "sale", "otherwise": "full_price"},
        {"rule": "new_arrival", "value": "new", "days": 14},
        None,
        {"rule": "price_band", "bands": [["0", "25", "budget"], ["25", "100", "mid"], ["100", None, "premium"]]},
    ]


@pytest.mark.parametrize(("row", "message"), [
    ({"label": "0", "rule": "price_band", "setting": "cheap"}, "Row 1: 'cheap' is not low-high:label"),
    ({"label": "0", "rule": "new_arrival", "setting": "soon"}, "Row 1: days must be a whole number of days, got 'soon'"),
    ({"label": "0", "rule": "field", "setting": "password"}, "Row 1: 'password' is not a product field"),
    ({"label": "", "rule": "static", "value": "x"}, "Row 1: pick which custom label it sets."),
    ({"label": "9", "rule": "static", "value": "x"}, "Row 1: '9' is not a valid label."),
    ({"label": "0", "rule": "category", "value": "x"}, "custom_label_0: rule 'category' needs prefix"),
])
def test_bad_rows_are_refused_with_a_message_naming_the_row(row: dict[str, str], message: str) -> None:
    feed = make_feed()
    form = FeedForm(_data(feed, **_rows(row)), instance=feed)
    assert not form.is_valid()
    assert message in " ".join(form.errors["custom_labels"])


def test_two_rules_for_one_label_and_unreadable_rows_are_refused(admin_client: Any) -> None:
    feed = make_feed()
    form = FeedForm(_data(feed, **_rows({"label": "0", "rule": "on_sale"}, {"label": "0", "rule": "best_seller"})), instance=feed)
    assert not form.is_valid() and "custom_label_0 already has a rule" in str(form.errors)
    form = FeedForm(_data(feed, **{"custom_labels-TOTAL": "lots"}), instance=feed)
    assert not form.is_valid() and "could not be read" in str(form.errors)
    response = admin_client.post(f"/admin/socialshop/feed/{feed.pk}/change/", _data(feed, **{"custom_labels-TOTAL": "99999"}))
    assert response.status_code == 200 and "could not be read" in response.content.decode()
