"""`pip install .` gives an importable app with templates, static files and complete migrations."""
from __future__ import annotations

import subprocess
import sys
import zipfile
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.django_db
def test_models_and_migrations_agree():
    out = StringIO()
    call_command("makemigrations", "socialshop", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


def test_wheel_ships_code_templates_static_and_migrations(tmp_path: Path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True, cwd=tmp_path,
    )
    [wheel] = tmp_path.glob("socialshop-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "socialshop/apps.py" in names
    assert "socialshop/migrations/0001_initial.py" in names
    assert any(n.startswith("socialshop/templates/socialshop/") for n in names)
    assert any(n.startswith("socialshop/static/socialshop/") for n in names)
    assert not any(n.startswith(("shop_demo/", "tests/")) for n in names)
