"""Signal receivers of feeds, connected once from ``SocialshopConfig.ready()`` (never in models.py)."""
from __future__ import annotations

from django.db.models.signals import post_delete

from socialshop.feeds.models import FeedBuild
from socialshop.feeds.publishing import delete_file_quietly


def build_deleted(sender: type[FeedBuild], instance: FeedBuild, **kwargs: object) -> None:
    """A deleted build (or a deleted feed's builds) takes its stored file with it."""
    if instance.file_name:
        delete_file_quietly(instance.file_name)


def connect() -> None:
    """Connect the receivers (called once from ``SocialshopConfig.ready()``)."""
    post_delete.connect(build_deleted, sender=FeedBuild, dispatch_uid="socialshop.feeds.build_deleted")
