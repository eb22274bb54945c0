"""Seed step: about 30 shoppable posts composed from the demo store's own product images (2-5 tagged
products each), a few approved customer photos and comments, and customer photos waiting in moderation.

Sized by SHOP_DEMO_POSTS (default 30). Posts are processed in process (renditions), like the task does.
"""
from __future__ import annotations

import io
import os
import random
from collections.abc import Callable
from datetime import timedelta

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image, ImageDraw

from shop_demo.store.models import Product
from socialshop.catalog import get_catalog
from socialshop.posts.gallery import snapshot_tag
from socialshop.posts.images import process_post_image
from socialshop.posts.models import Comment, CommentStatus, Moderation, Post, PostSource, PostStatus, ProductTag

Progress = Callable[[str], None] | None

CAPTIONS = [
    "Weekend layers, sorted. #weekend #{tag}", "Golden hour at the harbor with @harborandpine #{tag} #sunset",
    "Our team's picks this week #staffpicks #{tag}", "Packed and ready #travel #{tag}",
    "Soft light, slow mornings #home #{tag}", "New in and already a favourite #newin #{tag}",
    "City walk essentials #city #{tag}", "Rainy-day comfort #cozy #{tag}",
]
CREDITS = ["Harbor & Pine studio", "@mara.lens", "@northshore.style", "Harbor & Pine studio"]
CUSTOMER_NAMES = ["Jonas K.", "Priya S.", "Lena M.", "Tom R.", "Aiko T.", "Sam O."]
COMMENTS = ["Where can I find the bag?", "Love this look!", "Does the shirt run small?", "So good 😍"]


def _product_picture(product: Product) -> Image.Image | None:
    image = product.images.first()
    if image is None or not image.image:
        return None
    try:
        with default_storage.open(image.image.name, "rb") as fh:
            return Image.open(io.BytesIO(fh.read())).convert("RGB")
    except (OSError, ValueError):
        return None


def _layouts(count: int, width: int, height: int) -> list[tuple[int, int, int]]:
    """Tile (left, top, size) squares for ``count`` products on a width x height canvas."""
    cols = 2 if count <= 4 else 3
    rows = (count + cols - 1) // cols
    size = min(width // cols, height // rows) - 20
    out = []
    for i in range(count):
        row, col = divmod(i, cols)
        left = (width - cols * size) // (cols + 1) * (col + 1) + col * size
        top = (height - rows * size) // (rows + 1) * (row + 1) + row * size
        out.append((left, top, size))
    return out


def compose(pictures: list[Image.Image], rng: random.Random) -> tuple[bytes, list[tuple[float, float]]]:
    """A lifestyle-style JPEG made of the product pictures, and each product's centre as a fraction."""
    width, height = rng.choice([(1600, 1200), (1200, 1500), (1400, 1400), (1800, 1000)])
    tint = tuple(rng.randint(200, 245) for _ in range(3))
    canvas = Image.new("RGB", (width, height), tint)
    draw = ImageDraw.Draw(canvas)
    for stripe in range(0, width, 80):
        draw.rectangle([stripe, 0, stripe + 40, height], fill=tuple(max(0, c - 8) for c in tint))
    points = []
    for picture, (left, top, size) in zip(pictures, _layouts(len(pictures), width, height)):
        jitter = rng.randint(-15, 15)
        canvas.paste(picture.resize((size, size)), (left + jitter, top))
        points.append(((left + jitter + size / 2) / width, (top + size * 0.42) / height))
    out = io.BytesIO()
    canvas.save(out, "JPEG", quality=88)
    return out.getvalue(), points


def seed_posts(*, count: int = 30, progress: Progress = None) -> dict[str, int]:
    """Create ``count`` tagged posts, approved customer photos, comments and a moderation queue."""
    rng = random.Random(11)
    catalog = get_catalog()
    products = list(Product.objects.filter(is_active=True).select_related("category").prefetch_related("images")[:400])
    if len(products) < 2:
        return {"posts": 0, "tags": 0, "pending_photos": 0}
    now = timezone.now()
    made = tags = 0
    for index in range(count):
        chosen = rng.sample(products, k=min(len(products), rng.randint(2, 5)))
        pictures = [(p, _product_picture(p)) for p in chosen]
        pictures = [(p, pic) for p, pic in pictures if pic is not None]
        if len(pictures) < 2:
            continue
        data, points = compose([pic for _, pic in pictures], rng)
        customer = index % 10 == 9  # every tenth post is an approved customer photo
        category = (pictures[0][0].category.slug or "style").replace("-", "")
        post = Post(
            caption=rng.choice(CAPTIONS).format(tag=category), status=PostStatus.PUBLISHED,
            source=PostSource.CUSTOMER if customer else rng.choice([PostSource.OWN, PostSource.OWN, PostSource.INFLUENCER]),
            credit=rng.choice(CUSTOMER_NAMES) if customer else rng.choice(CREDITS),
            alt_text="A styled photo of " + ", ".join(p.name for p, _ in pictures),
            published_at=now - timedelta(days=index, hours=rng.randint(0, 20)),
            rights_granted=customer, moderation=Moderation.APPROVED,
        )
        post.image.save(f"seed-{index}.jpg", ContentFile(data), save=False)
        post.save()
        for (product, _), (x, y) in zip(pictures, points):
            ids = catalog.ids_for(product)
            if not ids:
                continue
            record = catalog.get_records(ids[:1]).get(ids[0])
            snapshot_tag(ProductTag(post=post, product_id=ids[0], x=round(x, 4), y=round(y, 4)), record).save()
            tags += 1
        process_post_image(post.pk)
        if index % 4 == 0:
            Comment.objects.create(post=post, name=rng.choice(CUSTOMER_NAMES), email="guest@example.com",
                                   body=rng.choice(COMMENTS), status=CommentStatus.APPROVED)
        made += 1
        if progress and made % 10 == 0:
            progress(f"  {made} posts")
    pending = 0
    for index in range(4):
        product = rng.choice(products)
        picture = _product_picture(product)
        if picture is None:
            continue
        data, _ = compose([picture, picture.rotate(90)], rng)
        name = CUSTOMER_NAMES[index % len(CUSTOMER_NAMES)]
        photo = Post(
            caption=f"My new {product.name.lower()} #happycustomer", source=PostSource.CUSTOMER, status=PostStatus.DRAFT,
            credit=name, submitter_name=name, submitter_email=f"customer{index}@example.com",
            submitted_product_id=(catalog.ids_for(product) or [""])[0], rights_granted=True,
            moderation=Moderation.PENDING,
        )
        photo.image.save(f"customer-{index}.jpg", ContentFile(data), save=False)
        photo.save()
        process_post_image(photo.pk)
        pending += 1
    Comment.objects.create(post=Post.objects.filter(status=PostStatus.PUBLISHED).first(), name="Curious visitor",
                           email="visitor@example.com", body="Is this in stock in blue?", status=CommentStatus.PENDING)
    return {"posts": made, "tags": tags, "pending_photos": pending}


def seed_posts_step(progress: Progress) -> None:
    """Seed step: shoppable posts (SHOP_DEMO_POSTS, default 30)."""
    count = int(os.environ.get("SHOP_DEMO_POSTS") or 30)
    if progress:
        progress(f"Seeding shoppable posts ({count} posts from product images)")
    if Post.objects.exists():
        if progress:
            progress("  posts exist already; skipped")
        return
    result = seed_posts(count=count, progress=progress)
    if progress:
        progress(f"  {result['posts']} posts, {result['tags']} product tags, {result['pending_photos']} customer photos to moderate")
