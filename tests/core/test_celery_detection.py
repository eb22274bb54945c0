"""socialshop works whether or not the host project has a Celery app."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import os, django
os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
django.setup()
from socialshop.core.jobs import celery_app_configured
before = celery_app_configured()
{create}
print(before, celery_app_configured())
"""


def run_probe(create: str) -> str:
    out = subprocess.run([sys.executable, "-c", PROBE.format(create=create)], cwd=ROOT, capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[-1]


def test_a_project_without_a_celery_app_is_detected():
    assert run_probe("import socialshop.tasks") == "False False"


def test_a_project_that_creates_a_celery_app_is_detected():
    assert run_probe("from celery import Celery; app = Celery('host')") == "False True"
