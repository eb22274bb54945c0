"""Fixtures for shoppable post tests: demo-store products, picture bytes and processed posts."""
from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from PIL import Image

from socialshop.posts.gallery import snapshot_tag
from socialshop.posts.images import process_post_image
from socialshop.posts.models import Post, PostStatus, ProductTag
from tests.factories import ProductFactory


def picture(size: tuple[int, int] = (1200, 900), *, fmt: str = "JPEG", mode: str = "RGB", color: object = (180, 120, 60),
            **save: object) -> bytes:
    """Bytes of a plain picture with a darker square in its top-left quarter (to see crops)."""
    img = Image.new(mode, size, color)
    if mode == "RGB":
        img.paste((20, 20, 20), (0, 0, size[0] // 4, size[1] // 4))
    out = io.BytesIO()
    img.save(out, fmt, **save)
    return out.getvalue()


@pytest.fixture(autouse=True)
def _own_media_root(settings: object, tmp_path: object) -> None:
    """Each test writes its files to its own media folder (post pks repeat between tests)."""
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Rate-limit counters live in the cache: start every test with none."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def products(db: None) -> list:
    """Three demo-store products without variants (catalog id = the product pk)."""
    return [
        ProductFactory(name="Linen shirt", price=Decimal("40.00")),
        ProductFactory(name="Canvas tote", price=Decimal("25.00"), sale_price=Decimal("19.00")),
        ProductFactory(name="Desert boots", price=Decimal("120.00")),
    ]


@pytest.fixture
def make_post(db: None) -> Callable[..., Post]:
    """Create a post from picture bytes with tags [(product, x, y)], processed like the task does."""

    def make(tags: Sequence[tuple[object, float, float]] = (), *, data: bytes | None = None, caption: str = "Summer #linen",
             status: str = PostStatus.PUBLISHED, process: bool = True, **fields: object) -> Post:
        post = Post(caption=caption, status=status, **fields)
        post.image.save("look.jpg", ContentFile(data or picture()), save=False)
        post.save()
        for product, x, y in tags:
            pid = str(product.pk) if hasattr(product, "pk") else str(product)
            snapshot_tag(ProductTag(post=post, product_id=pid, x=x, y=y)).save()
        if process:
            process_post_image(post.pk)
            post.refresh_from_db()
        return post

    return make
