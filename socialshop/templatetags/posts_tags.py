"""Storefront template tags of shoppable posts, merged into ``{% load socialshop %}``:
``{% socialshop_gallery %}``, ``{% socialshop_product_posts product %}`` and filters for renditions
and captions. Queries are in posts/gallery.py.
"""
from __future__ import annotations

import re
from typing import Any

from django import template
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe

from socialshop.catalog import get_catalog
from socialshop.exceptions import CatalogError
from socialshop.posts.gallery import live_posts, posts_for_products, rendition_url

register = template.Library()

_TOKEN_RE = re.compile(r"(?<![\w&])([#@])(\w[\w.]{0,59})", re.UNICODE)


@register.simple_tag(takes_context=True)
def socialshop_gallery(context: template.Context, limit: int = 12, product: str = "", category: str = "",
                       hashtag: str = "", title: str = "Shop the look") -> SafeString:
    """Embed a grid of live posts (two queries however many posts), optionally filtered."""
    posts = list(live_posts(product=product, category=category, hashtag=hashtag)[: max(1, min(int(limit), 60))])
    request = context.get("request")
    return render_to_string("socialshop/posts/embed.html", {"posts": posts, "title": title}, request=request)


@register.simple_tag(takes_context=True)
def socialshop_product_posts(context: template.Context, product: Any, limit: int = 6,
                             title: str = "As seen on our feed") -> SafeString:
    """Posts that tag ``product`` (a host product object or a catalog id string); empty when none."""
    if isinstance(product, str):
        ids = [product]
    else:
        try:
            ids = get_catalog().ids_for(product)
        except CatalogError:
            return mark_safe("")
        pk = getattr(product, "pk", None)
        ids = [*ids, *([str(pk)] if pk is not None else [])]
    posts = list(posts_for_products(ids, limit=int(limit)))
    if not posts:
        return mark_safe("")
    return render_to_string("socialshop/posts/embed.html", {"posts": posts, "title": title}, request=context.get("request"))


@register.filter
def ss_rendition(post: Any, spec: str) -> str:
    """URL of a post rendition: ``post|ss_rendition:"square"`` or ``"square webp"``."""
    name, _, fmt = spec.partition(" ")
    return rendition_url(post, name, fmt or "jpeg")


@register.filter
def ss_percent(value: float) -> str:
    """A 0-1 fraction as a CSS percentage number with a dot decimal separator."""
    return f"{float(value) * 100:.2f}"


@register.filter
def ss_caption(caption: str) -> SafeString:
    """The caption escaped, with #hashtags linked to the gallery filter and line breaks kept."""
    gallery = reverse("socialshop:posts-gallery")
    escaped = str(conditional_escape(caption or ""))

    def link(match: re.Match[str]) -> str:
        sign, word = match.group(1), match.group(2)
        if sign == "#":
            return str(format_html('<a href="{}?hashtag={}">#{}</a>', gallery, word.casefold(), word))
        return str(format_html('<span class="ss-mention">@{}</span>', word))

    return mark_safe(_TOKEN_RE.sub(link, escaped).replace("\n", "<br>"))  # noqa: S308 - built from escaped text
