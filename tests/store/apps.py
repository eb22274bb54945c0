from django.apps import AppConfig


class TestStoreConfig(AppConfig):
    name = "tests.store"
    label = "teststore"
    default_auto_field = "django.db.models.BigAutoField"
