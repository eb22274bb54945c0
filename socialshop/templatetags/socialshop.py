"""``{% load socialshop %}``: one library for the storefront's template tags.

Each concern keeps its tags in its own module here (tracking_tags.py, posts_tags.py); this module
merges them so a template needs only ``{% load socialshop %}``.
"""
from __future__ import annotations

from django import template

register = template.Library()


def merge(library: template.Library) -> None:
    """Make every tag and filter of ``library`` available under ``{% load socialshop %}``."""
    register.tags.update(library.tags)
    register.filters.update(library.filters)


from socialshop.templatetags import tracking_tags  # noqa: E402 - merged after merge() is defined
from socialshop.templatetags import posts_tags  # noqa: E402
from socialshop.templatetags import money_tags  # noqa: E402

merge(tracking_tags.register)
merge(posts_tags.register)
merge(money_tags.register)
