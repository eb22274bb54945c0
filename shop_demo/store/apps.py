"""The demo store's Django app config (label ``store``)."""
from django.apps import AppConfig


class StoreConfig(AppConfig):
    name = "shop_demo.store"
    label = "store"
    verbose_name = "Demo store"
    default_auto_field = "django.db.models.BigAutoField"
