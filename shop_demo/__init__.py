"""A small but real demo store that installs socialshop exactly as a customer would."""
from shop_demo.celery import app as celery_app

__all__ = ["celery_app"]
