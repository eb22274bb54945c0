"""The same project without a Celery app (no proj/celery.py imported anywhere)."""
from base_settings import settings

globals().update(settings())
ROOT_URLCONF = "plainproj.urls"
