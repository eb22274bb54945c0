"""`pip install .` gives an importable app with templates, static files and complete migrations."""
from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import zipfile
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from packaging.requirements import Requirement

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


def built_metadata(tmp_path: Path) -> list[str]:
    """The ``Requires-Dist`` lines of the metadata setuptools builds from pyproject.toml."""
    code = ("import sys; from setuptools.build_meta import prepare_metadata_for_build_wheel as p; "
            "print(p(sys.argv[1]))")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], cwd=ROOT, capture_output=True, text=True, check=True)
    metadata = (tmp_path / out.stdout.strip().splitlines()[-1] / "METADATA").read_text()
    return [line.split(":", 1)[1].strip() for line in metadata.splitlines() if line.startswith("Requires-Dist:")]


def extra_requirements(requires: list[str], extra: str) -> list[Requirement]:
    """The requirements ``pip install "pkg[extra]"`` adds, from a distribution's Requires-Dist lines."""
    found = []
    for line in requires:
        req = Requirement(line)
        if req.marker is not None and req.marker.evaluate({"extra": extra}) and not req.marker.evaluate({"extra": ""}):
            found.append(req)
    return found


def resolve_installed(reqs: list[Requirement], seen: dict[str, Requirement] | None = None) -> dict[str, Requirement]:
    """Follow each requirement's extras through the installed distributions' metadata."""
    seen = {} if seen is None else seen
    for req in reqs:
        seen.setdefault(req.name.lower(), req)
        for extra in req.extras:
            resolve_installed(extra_requirements(importlib.metadata.requires(req.name) or [], extra), seen)
    return seen


def test_the_redis_extra_installs_what_celerys_redis_transport_imports(tmp_path: Path):
    # A worker started after `pip install "socialshop[redis]"` crashed: kombu's Redis transport also
    # imports `packaging` and accepts only some redis versions; celery[redis] -> kombu[redis] brings both.
    redis_extra = extra_requirements(built_metadata(tmp_path), "redis")
    assert [str(r) for r in redis_extra] == ['celery[redis]>=5.4; extra == "redis"']

    closure = resolve_installed(redis_extra)
    assert {"celery", "kombu", "redis", "packaging"} <= set(closure)
    for name, req in closure.items():
        assert req.specifier.contains(importlib.metadata.version(name), prereleases=True), (name, str(req))
    subprocess.run([sys.executable, "-c", "import kombu.transport.redis as t; t.Transport"], check=True)
