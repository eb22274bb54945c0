"""The host project's settings (socialshop + the test store); its Celery app is proj/celery.py."""
from base_settings import settings

globals().update(settings())
