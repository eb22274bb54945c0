"""`manage.py check` fails with a message naming the SOCIALSHOP key and the bad value."""
from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError


def run_check() -> None:
    call_command("check", "socialshop", stdout=open("/dev/null", "w"))


def test_demo_settings_pass_the_checks():
    run_check()


def test_catalog_pointing_at_nothing_fails_naming_the_key(settings):
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "CATALOG": "myshop.nowhere.Catalog"}
    with pytest.raises(SystemCheckError, match=r"SOCIALSHOP\['CATALOG'\] = 'myshop.nowhere.Catalog' cannot be imported"):
        run_check()


def test_catalog_that_is_not_a_catalog_class_fails(settings):
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "CATALOG": "decimal.Decimal"}
    with pytest.raises(SystemCheckError, match="is not a subclass of socialshop.catalog.Catalog"):
        run_check()


def test_field_mapping_naming_a_missing_field_fails_naming_key_and_field(settings):
    options = {**settings.SOCIALSHOP["CATALOG_OPTIONS"]}
    options["fields"] = {**options["fields"], "title": "titel"}
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "CATALOG_OPTIONS": options}
    with pytest.raises(SystemCheckError) as err:
        run_check()
    assert "SOCIALSHOP['CATALOG_OPTIONS']['fields']['title'] = 'titel'" in str(err.value)
    assert "Product has no field or attribute 'titel'" in str(err.value)


def test_variant_mapping_naming_a_missing_field_fails(settings):
    options = {**settings.SOCIALSHOP["CATALOG_OPTIONS"]}
    options["variants"] = {"related_name": "variants", "fields": {"size": "sizing"}}
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "CATALOG_OPTIONS": options}
    with pytest.raises(SystemCheckError, match=r"\['variants'\]\['fields'\]\['size'\] = 'sizing'"):
        run_check()


def test_unknown_catalog_model_fails(settings):
    options = {**settings.SOCIALSHOP["CATALOG_OPTIONS"], "model": "store.Produce"}
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "CATALOG_OPTIONS": options}
    with pytest.raises(SystemCheckError, match=r"\['model'\] = 'store.Produce' is not an installed model"):
        run_check()


def test_missing_required_mapping_fails(settings):
    options = {**settings.SOCIALSHOP["CATALOG_OPTIONS"]}
    options["fields"] = {k: v for k, v in options["fields"].items() if k != "price"}
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "CATALOG_OPTIONS": options}
    with pytest.raises(SystemCheckError, match="does not map price"):
        run_check()


@pytest.mark.parametrize(
    ("key", "value"),
    [("CURRENCY", "usd"), ("CONSENT_REQUIRED", "yes"), ("EVENT_RETENTION_DAYS", 0), ("IP_HANDLING", "keep"),
     ("SITE_URL", "shop.example.com"), ("RUN_TASKS", "threads"), ("FEED_PUBLISH_MIN_RATIO", 2),
     ("FEED_STORAGE", "nowhere"), ("ALLOWED_ORIGINS", ["shop.example.com"])],
)
def test_wrong_values_fail_naming_key_and_value(settings, key, value):
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, key: value}
    with pytest.raises(SystemCheckError, match=rf"SOCIALSHOP\['{key}'\] = {repr(value).replace('[', '.').replace(']', '.')} is not valid"):
        run_check()


def test_misspelt_key_fails(settings):
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "CONSENT_REQUIRD": False}
    with pytest.raises(SystemCheckError, match=r"SOCIALSHOP\['CONSENT_REQUIRD'\] is not a socialshop setting"):
        run_check()
