"""Django app config: registers system checks and signal receivers when the app loads."""
from __future__ import annotations

from django.apps import AppConfig


class SocialshopConfig(AppConfig):
    name = "socialshop"
    verbose_name = "Social shop"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from socialshop import checks  # noqa: F401  (registers the system checks)
        from socialshop.audiences import receivers as audience_receivers
        from socialshop.campaigns import receivers as campaign_receivers
        from socialshop.core import receivers as core_receivers
        from socialshop.feeds import receivers as feed_receivers
        from socialshop.posts import receivers as post_receivers
        from socialshop.privacy import receivers as privacy_receivers
        from socialshop.tracking import receivers as tracking_receivers

        core_receivers.connect()
        feed_receivers.connect()
        post_receivers.connect()
        privacy_receivers.connect()
        # Audiences before tracking: an erasure's audience receiver reads the visitor's events that
        # tracking's receiver deletes (audiences/identity.py forget_visitors).
        audience_receivers.connect()
        tracking_receivers.connect()
        campaign_receivers.connect()
