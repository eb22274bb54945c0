"""What the storefront shows: live posts with filters, tags resolved to product cards through the
catalog (a tag whose product is gone is hidden), and positions of tags inside a rendition.

Views and template tags that use this are posts/views.py and templatetags/posts_tags.py.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from socialshop.catalog import Availability, ProductRecord, get_catalog
from socialshop.conf import app_settings
from socialshop.core.money import format_money
from socialshop.posts.images import position_in
from socialshop.posts.models import ImageState, Post, PostStatus, ProductTag


@dataclass(frozen=True, slots=True)
class ProductCard:
    """What a hotspot shows: the tagged product's live price, sale price and availability."""

    tag_id: str
    product_id: str
    title: str
    url: str
    image_url: str
    price: Decimal | None
    sale_price: Decimal | None
    currency: str
    availability: str
    x: float
    y: float

    @property
    def on_sale(self) -> bool:
        return self.sale_price is not None and self.price is not None and self.sale_price < self.price

    @property
    def can_buy(self) -> bool:
        return self.availability in (Availability.IN_STOCK, Availability.PREORDER, Availability.BACKORDER)

    @property
    def value(self) -> Decimal | None:
        return self.sale_price if self.on_sale else self.price

    @property
    def availability_label(self) -> str:
        return self.availability.replace("_", " ").capitalize()


def live_posts(*, product: str = "", category: str = "", hashtag: str = "", at: datetime | None = None) -> QuerySet[Post]:
    """Published posts with ready images, newest first, filtered by product id, category or hashtag.

    ``product`` matches the tagged catalog id or its item group; ``category`` matches a category
    path prefix ("Women" matches "Women > Dresses"); ``hashtag`` is with or without '#'.
    """
    qs = Post.objects.filter(
        status=PostStatus.PUBLISHED, image_state=ImageState.READY, published_at__lte=at or timezone.now(),
    )
    return filter_posts(qs, product=product, category=category, hashtag=hashtag).annotate(
        tag_count=Count("tags")
    ).order_by("-published_at", "-pk")


def filter_posts(qs: QuerySet[Post], *, product: str = "", category: str = "", hashtag: str = "") -> QuerySet[Post]:
    """``qs`` narrowed to posts tagging ``product``, a product of ``category``, or with ``hashtag``."""
    if product:
        qs = qs.filter(pk__in=ProductTag.objects.filter(Q(product_id=product) | Q(group_id=product)).values("post_id"))
    if category:
        qs = qs.filter(pk__in=ProductTag.objects.filter(category__istartswith=category.strip()).values("post_id"))
    if hashtag:
        qs = qs.filter(hashtags__contains=f" {hashtag.lstrip('#').casefold()} ")
    return qs


def posts_for_products(product_ids: Sequence[str], *, limit: int = 8) -> QuerySet[Post]:
    """Live posts that tag any of ``product_ids`` (a product's variant ids), newest first."""
    ids = [str(i) for i in product_ids if i]
    tags = ProductTag.objects.filter(Q(product_id__in=ids) | Q(group_id__in=ids)).values("post_id")
    return live_posts().filter(pk__in=tags)[:limit]


def cards_for(post: Post, *, rendition: str = "") -> list[ProductCard]:
    """The post's visible hotspots: tags whose product the catalog still has (one catalog call).

    With ``rendition``, x/y are positions inside that rendition rather than the whole picture.
    """
    tags = list(post.tags.all())
    records = get_catalog().get_records([t.product_id for t in tags]) if tags else {}
    box = (post.renditions or {}).get(rendition, {}).get("box") if rendition else None
    cards = []
    for tag in tags:
        record = records.get(tag.product_id)
        if record is None:
            continue  # the product was deleted or deactivated: hide the hotspot, keep the post
        x, y = (tag.x, tag.y)
        if box and post.width and post.height:
            x, y = position_in(box, post.width, post.height, tag.x, tag.y)
        cards.append(card_of(record, tag_id=str(tag.pk), x=x, y=y))
    return cards


def card_of(record: ProductRecord, *, tag_id: str, x: float, y: float) -> ProductCard:
    """A product card from a catalog record, with the sale price only while the sale runs."""
    now = timezone.now()
    effective = record.effective_price(now)
    sale = effective if record.sale_price is not None and effective == record.sale_price else None
    return ProductCard(
        tag_id=tag_id, product_id=record.id, title=record.title, url=record.url,
        image_url=record.image_urls[0] if record.image_urls else "", price=record.price, sale_price=sale,
        currency=record.currency or app_settings.CURRENCY, availability=record.availability,
        x=round(x, 4), y=round(y, 4),
    )


def snapshot_tag(tag: ProductTag, record: ProductRecord | None = None) -> ProductTag:
    """Fill the tag's denormalised fields (group, category, title) from the catalog record."""
    if record is None:
        record = get_catalog().get_records([tag.product_id]).get(tag.product_id)
    if record is not None:
        tag.group_id = record.item_group_id or record.id
        tag.category = " > ".join(record.category_path)[:300]
        tag.title = record.title[:200]
    return tag


def tag_submitted_product(post: Post) -> ProductTag | None:
    """Tag the product a customer named with their photo (at the picture's centre), once, so the
    approved photo is shoppable. None when no product was named, it is unknown, or already tagged."""
    product_id = (getattr(post, "submitted_product_id", "") or "").strip()
    if not product_id or post.tags.filter(product_id=product_id).exists():
        return None
    record = get_catalog().get_records([product_id]).get(product_id)
    if record is None:
        return None
    tag = snapshot_tag(ProductTag(post=post, product_id=product_id, x=0.5, y=0.5), record)
    tag.save()
    return tag


def rendition_url(post: Post, name: str, fmt: str = "jpeg") -> str:
    """Storage URL of one rendition file, or '' when it is not made yet."""
    from django.core.files.storage import default_storage

    path = (post.renditions or {}).get(name, {}).get(fmt)
    return default_storage.url(path) if path else ""


def share_url(absolute_post_url: str, *, medium: str = "share") -> str:
    """The post URL with utm parameters, so visits through a shared link are attributed."""
    sep = "&" if "?" in absolute_post_url else "?"
    return f"{absolute_post_url}{sep}utm_source=socialshop&utm_medium={medium}&utm_campaign=shoppable_posts"


def _price_text(record: ProductRecord) -> str:
    """The price as the store writes it, with the sale price while a sale runs ("$19.00 (was $25.00)")."""
    effective = record.effective_price(timezone.now())
    currency = record.currency or str(app_settings.CURRENCY)
    if effective is not None and record.price is not None and effective < record.price:
        return f"{format_money(effective, currency)} (was {format_money(record.price, currency)})"
    return format_money(record.price, currency)


def search_products(query: str, *, limit: int = 20) -> list[dict[str, object]]:
    """Catalog search for the admin tag picker: id, group, title, variant label, price."""
    out = []
    for record in get_catalog().search(query, limit=limit):
        label = " / ".join(p for p in (record.color, record.size) if p)
        out.append({
            "id": record.id, "group_id": record.item_group_id or record.id, "title": record.title,
            "variant": label, "price": str(record.price) if record.price is not None else "",
            "price_text": _price_text(record),
            "currency": record.currency, "availability": record.availability,
            "image": record.image_urls[0] if record.image_urls else "",
        })
    return out

