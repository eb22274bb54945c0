"""Post images with Pillow: refuse hostile files, clean the rest (orientation, sRGB, no metadata), and
cut the renditions (crops that keep tagged products inside) as WebP and JPEG through Django storage.

The Celery task is ``socialshop.process_post_image`` (socialshop/tasks.py); models are posts/models.py.
"""
from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image

from socialshop.conf import app_settings
from socialshop.core.images import ImageRejected, encode, open_checked, to_srgb
from socialshop.exceptions import JobLocked
from socialshop.posts.storage import post_image_storage

logger = logging.getLogger(__name__)

MASTER_QUALITY = 92


@dataclass(frozen=True, slots=True)
class RenditionSpec:
    """One output size: its name (the key in ``Post.renditions``) and pixel size."""

    name: str
    width: int
    height: int


RENDITIONS: tuple[RenditionSpec, ...] = (
    RenditionSpec("thumbnail", 480, 480),
    RenditionSpec("square", 1080, 1080),
    RenditionSpec("portrait", 1080, 1350),
    RenditionSpec("story", 1080, 1920),
)
# Margin kept around tagged points inside a crop, as a share of the crop's shorter side.
TAG_MARGIN = 0.08

def choose_box(
    width: int, height: int, target: tuple[int, int], points: Iterable[tuple[float, float]], *, margin: float = TAG_MARGIN,
) -> tuple[float, float, float, float]:
    """The crop (left, top, right, bottom, in image pixels) of the target's aspect ratio.

    It is the largest such crop, placed over the tagged ``points`` (fractions 0-1). When the
    tags are spread wider than that crop, the crop grows past the picture's edges (the renderer fills
    the border) so that every tag stays inside.
    """
    aspect = target[0] / target[1]
    if width / height > aspect:
        box_w, box_h = height * aspect, float(height)
    else:
        box_w, box_h = float(width), width / aspect
    pts = [(x * width, y * height) for x, y in points]
    if not pts:
        return ((width - box_w) / 2, (height - box_h) / 2, (width + box_w) / 2, (height + box_h) / 2)
    pad = margin * min(box_w, box_h)
    min_x, max_x = min(p[0] for p in pts) - pad, max(p[0] for p in pts) + pad
    min_y, max_y = min(p[1] for p in pts) - pad, max(p[1] for p in pts) + pad
    # Tags wider apart than the largest crop: widen the crop, keeping the aspect ratio.
    grow = max(1.0, (max(p[0] for p in pts) - min(p[0] for p in pts)) / (box_w * 0.9),
               (max(p[1] for p in pts) - min(p[1] for p in pts)) / (box_h * 0.9))
    box_w, box_h = box_w * grow, box_h * grow
    left = _place(min_x, max_x, box_w, width)
    top = _place(min_y, max_y, box_h, height)
    return (left, top, left + box_w, top + box_h)


def _place(low: float, high: float, size: float, limit: float) -> float:
    """Start of a span of ``size`` centred on [low, high], kept inside [0, limit] when it fits."""
    start = (low + high) / 2 - size / 2
    if size <= limit:
        return min(max(start, 0.0), limit - size)
    return (limit - size) / 2  # larger than the picture: centre it, borders on both sides


def position_in(box: Sequence[float], width: int, height: int, x: float, y: float) -> tuple[float, float]:
    """A tag at (x, y) of the whole picture, as fractions of the rendition cut from ``box``."""
    left, top, right, bottom = box
    return ((x * width - left) / (right - left), (y * height - top) / (bottom - top))


def render(img: Image.Image, box: Sequence[float], size: tuple[int, int]) -> Image.Image:
    """Cut ``box`` from ``img`` and scale it to ``size``; parts outside the picture get a plain border."""
    left, top, right, bottom = box
    width, height = img.size
    if left >= -0.5 and top >= -0.5 and right <= width + 0.5 and bottom <= height + 0.5:
        safe = (max(left, 0), max(top, 0), min(right, width), min(bottom, height))
        return img.resize(size, Image.Resampling.LANCZOS, box=safe, reducing_gap=3.0)
    scale_x, scale_y = size[0] / (right - left), size[1] / (bottom - top)
    fill = img.resize((1, 1), Image.Resampling.BOX).getpixel((0, 0))
    canvas = Image.new("RGB", size, fill)
    inner = (max(left, 0), max(top, 0), min(right, width), min(bottom, height))
    inner_size = (max(1, round((inner[2] - inner[0]) * scale_x)), max(1, round((inner[3] - inner[1]) * scale_y)))
    part = img.resize(inner_size, Image.Resampling.LANCZOS, box=inner, reducing_gap=3.0)
    canvas.paste(part, (round((inner[0] - left) * scale_x), round((inner[1] - top) * scale_y)))
    return canvas


def build_renditions(img: Image.Image, points: Sequence[tuple[float, float]]) -> dict[str, tuple[Image.Image, tuple[float, ...]]]:
    """Every rendition of a clean image: name -> (picture, crop box)."""
    out = {}
    for spec in RENDITIONS:
        box = choose_box(img.width, img.height, (spec.width, spec.height), points)
        out[spec.name] = (render(img, box, (spec.width, spec.height)), tuple(round(v, 2) for v in box))
    return out


def _master_prefix(post_pk: int) -> str:
    return f"socialshop/posts/{post_pk}/master-"


def process_post_image(post_pk: int) -> dict[str, Any]:
    """Clean a post's image and write its renditions; idempotent, one run per post at a time.

    Returns a summary dict ({"state", "error", "renditions"}). A refused image marks the post
    FAILED with the reason; it is never published by this function.
    """
    from socialshop.core.jobs import single_flight
    from socialshop.posts.models import Post

    try:
        with single_flight(f"posts.image.{post_pk}", seconds=600):
            post = Post.objects.filter(pk=post_pk).first()
            if post is None:  # deleted before its turn came: nothing to do, nothing to retry
                return {"state": "gone", "error": "", "renditions": []}
            return _process(post)
    except JobLocked:
        return {"state": "busy", "error": "", "renditions": []}


def schedule_processing(post_pk: int) -> None:
    """Process the post's image once the current transaction commits (at once outside one).

    Saving a post and its tags in one transaction queues one run, not one per save; a run that
    finds the renditions already cut for the current picture and tags does nothing.
    """
    from django.db import transaction

    from socialshop.core.jobs import run_task
    from socialshop.tasks import process_post_image as task

    connection = transaction.get_connection()
    if connection.in_atomic_block and any(
        getattr(func, "socialshop_post_pk", None) == post_pk and not func.socialshop_ran  # type: ignore[attr-defined]
        for _, func, *_ in connection.run_on_commit
    ):
        return

    def run() -> None:
        run.socialshop_ran = True  # type: ignore[attr-defined]
        run_task(task, post_pk)

    run.socialshop_post_pk, run.socialshop_ran = post_pk, False  # type: ignore[attr-defined]
    transaction.on_commit(run)


def _tag_key(points: Sequence[tuple[float, float]]) -> str:
    return hashlib.sha256(repr(sorted(points)).encode()).hexdigest()[:8]


def _up_to_date(post: Any, points: Sequence[tuple[float, float]]) -> bool:
    """The post already has every rendition for its clean picture and these tag positions."""
    from socialshop.posts.models import ImageState

    renditions = post.renditions or {}
    if post.image_state != ImageState.READY or not post.image_digest or set(renditions) != {r.name for r in RENDITIONS}:
        return False
    if not post.image.name.startswith(_master_prefix(post.pk)):
        return False
    prefix = f"socialshop/posts/{post.pk}/{post.image_digest[:12]}-{_tag_key(points)}-"
    files = [entry.get(fmt, "") for entry in renditions.values() for fmt in ("jpeg", "webp")]
    return all(f.startswith(prefix) for f in files) and all(default_storage.exists(f) for f in files)


def _process(post: Any) -> dict[str, Any]:
    from socialshop.posts.models import ImageState, Post

    storage = post_image_storage()  # the upload may still be private; what is written here is public
    name = post.image.name
    points = list(post.tags.values_list("x", "y"))
    if _up_to_date(post, points):  # a second queued run (the ORM save and the admin both asked)
        return {"state": ImageState.READY, "error": "", "renditions": sorted(post.renditions)}
    try:
        with storage.open(name, "rb") as fh:
            data = fh.read(max(int(app_settings.UPLOAD_MAX_BYTES), 64 * 1024 * 1024) + 1)
        img = to_srgb(open_checked(data))
    except (ImageRejected, FileNotFoundError, OSError) as exc:
        message = str(exc) if isinstance(exc, ImageRejected) else "The image file is missing."
        Post.objects.filter(pk=post.pk).update(image_state=ImageState.FAILED, image_error=message[:300])
        return {"state": ImageState.FAILED, "error": message, "renditions": []}
    if name.startswith(_master_prefix(post.pk)):
        master_name = name  # already the clean copy (a re-run): do not re-encode it
        digest = post.image_digest or hashlib.sha256(data).hexdigest()
    else:
        master = encode(img, "JPEG", quality=MASTER_QUALITY)
        digest = hashlib.sha256(master).hexdigest()
        master_name = f"{_master_prefix(post.pk)}{digest[:16]}.jpg"
        if not storage.exists(master_name):
            master_name = storage.save(master_name, ContentFile(master))
    tag_key = _tag_key(points)
    renditions: dict[str, Any] = {}
    for rname, (picture, box) in build_renditions(img, points).items():
        entry: dict[str, Any] = {"width": picture.width, "height": picture.height, "box": list(box)}
        for fmt, ext in (("JPEG", "jpg"), ("WEBP", "webp")):
            path = f"socialshop/posts/{post.pk}/{digest[:12]}-{tag_key}-{rname}.{ext}"
            if storage.exists(path):
                storage.delete(path)
            entry[ext if ext == "webp" else "jpeg"] = storage.save(path, ContentFile(encode(picture, fmt)))
        renditions[rname] = entry
    old_files = {v for r in (post.renditions or {}).values() if isinstance(r, dict) for k, v in r.items() if k in ("jpeg", "webp")}
    new_files = {v for r in renditions.values() for k, v in r.items() if k in ("jpeg", "webp")}
    Post.objects.filter(pk=post.pk).update(
        image=master_name, image_digest=digest, width=img.width, height=img.height, renditions=renditions,
        image_state=ImageState.READY, image_error="",
    )
    for stale in old_files - new_files:
        storage.delete(stale)
    if name != master_name:
        storage.delete(name)  # the upload as sent, with its EXIF/GPS, is not kept
        _remove_strays(post.pk, keep={master_name, *new_files})
    return {"state": ImageState.READY, "error": "", "renditions": sorted(renditions)}


def _remove_strays(post_pk: int, *, keep: set[str]) -> None:
    """Delete files of earlier images of this post (a replaced picture leaves its master behind)."""
    folder = f"socialshop/posts/{post_pk}"
    try:
        _, names = default_storage.listdir(folder)
    except (NotImplementedError, FileNotFoundError, OSError):
        return  # a storage without listing keeps the old files; they are harmless
    for file_name in names:
        path = f"{folder}/{file_name}"
        if path not in keep:
            default_storage.delete(path)


def delete_post_files(post_pk: int, image_name: str) -> None:
    """Remove a deleted post's upload, master and renditions from storage."""
    storage = post_image_storage()
    if image_name and storage.exists(image_name):
        storage.delete(image_name)
    _remove_strays(post_pk, keep=set())
