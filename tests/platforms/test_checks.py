"""System checks for SOCIALSHOP['PLATFORMS'] (socialshop/platforms/checks.py)."""
from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import SystemCheckError
import pytest

from socialshop.platforms.checks import check_platforms
from tests.fakes.platforms import CREDENTIALS


def with_platforms(settings: Any, platforms: dict) -> None:  # type: ignore[type-arg]
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "PLATFORMS": platforms}


def test_complete_platform_settings_pass(settings: Any) -> None:
    with_platforms(settings, {slug: dict(values) for slug, values in CREDENTIALS.items()})
    assert check_platforms() == []


def test_missing_credential_is_an_error_naming_the_full_key(settings: Any) -> None:
    with_platforms(settings, {"meta": {"pixel_id": "123"}})
    [error] = check_platforms()
    assert error.id == "socialshop.E041"
    assert "SOCIALSHOP['PLATFORMS']['meta']['access_token']" in error.msg


def test_manage_py_check_fails_on_a_missing_credential(settings: Any) -> None:
    with_platforms(settings, {"tiktok": {"access_token": "x"}})
    with pytest.raises(SystemCheckError, match=r"SOCIALSHOP\['PLATFORMS'\]\['tiktok'\]\['pixel_code'\]"):
        call_command("check")


def test_unknown_platform_bad_url_and_typo_are_errors(settings: Any) -> None:
    with_platforms(settings, {
        "snapchat": {}, "google": {**CREDENTIALS["google"], "api_base": "localhost:8300", "mesurement": "x"},
    })
    ids = sorted(e.id for e in check_platforms())
    assert ids == ["socialshop.E040", "socialshop.E042", "socialshop.E044"]


def test_disabled_platform_is_not_checked(settings: Any) -> None:
    with_platforms(settings, {"meta": {"enabled": False}})
    assert check_platforms() == []
