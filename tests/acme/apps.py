"""The test-only Acme app (a new capability's queue model lives in an app, as it would in socialshop)."""
from django.apps import AppConfig


class AcmeConfig(AppConfig):
    name = "tests.acme"
    label = "acme"
    default_auto_field = "django.db.models.BigAutoField"
