"""Pictures an ad is made from: the product's first image (read from this store's media storage when its
URL points there, otherwise fetched over HTTP with a size limit and a timeout) and the brand logo
(``SOCIALSHOP["BRAND_LOGO"]``). Every file goes through core/images.py: no SVG, no decompression bombs.

Used by creatives/builder.py.
"""
from __future__ import annotations

import logging
import os
import urllib.request
from functools import lru_cache
from urllib.error import URLError
from urllib.parse import urlsplit

from django.core.files.storage import default_storage
from PIL import Image, ImageOps

from socialshop.conf import app_settings
from socialshop.core.images import ImageRejected, open_checked, read_limited, to_srgb
from socialshop.exceptions import ConfigurationError

logger = logging.getLogger(__name__)

MAX_BYTES = 20 * 1024 * 1024  # a product photo larger than this is not one we should draw
TIMEOUT = 10  # seconds per image fetched over HTTP
USER_AGENT = "socialshop-creatives/1"


class LogoRefused(ConfigurationError):
    """The configured logo cannot be used; the message names the setting, the file and why."""


def media_name(url: str) -> str | None:
    """The default-storage name of a URL under this store's MEDIA_URL (absolute on SITE_URL, or a path)."""
    media = str(app_settings.django("MEDIA_URL") or "")
    if not media:
        return None
    site = str(app_settings.SITE_URL or "").rstrip("/")
    prefixes = [media] if "://" in media else [site + media if site else "", media]
    for prefix in prefixes:
        if prefix and url.startswith(prefix):
            name = url[len(prefix):].split("?", 1)[0]
            return name if name and ".." not in name.split("/") else None
    return None


def _fetch(url: str) -> bytes:
    if urlsplit(url).scheme not in ("http", "https"):
        raise ImageRejected(f"{url!r} is not an http(s) URL.")
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310 - scheme checked above
            data = response.read(MAX_BYTES + 1)  # not read_limited: a response cannot seek
    except (URLError, OSError, ValueError) as exc:
        raise ImageRejected(f"The image at {url} could not be fetched ({exc}).") from None
    if len(data) > MAX_BYTES:
        raise ImageRejected(f"The image at {url} is larger than {MAX_BYTES // (1024 * 1024)} MB.")
    return data


def read_image_bytes(url: str) -> bytes:
    """The bytes behind a product image URL; ``ImageRejected`` when they cannot be had."""
    name = media_name(url)
    if name is not None:
        try:
            with default_storage.open(name, "rb") as fh:
                return read_limited(fh, limit=MAX_BYTES)
        except (FileNotFoundError, OSError) as exc:
            raise ImageRejected(f"The image file {name} is missing from storage ({exc}).") from None
    return _fetch(url)


def product_photo(image_urls: tuple[str, ...]) -> tuple[Image.Image | None, str]:
    """(clean RGB photo, "") from the first usable URL, or (None, why not) for the placeholder."""
    if not image_urls:
        return None, "no image"
    reason = ""
    for url in image_urls[:3]:
        try:
            return to_srgb(open_checked(read_image_bytes(url))), ""
        except ImageRejected as exc:
            reason = str(exc)
            logger.info("creative: product image %s refused: %s", url, exc)
    return None, reason


def _logo_bytes(value: str) -> bytes:
    if os.path.isabs(value):
        with open(value, "rb") as fh:
            return read_limited(fh, limit=MAX_BYTES)
    with default_storage.open(value, "rb") as fh:
        return read_limited(fh, limit=MAX_BYTES)


@lru_cache(maxsize=4)
def _logo(value: str, modified: float) -> Image.Image:
    try:
        data = _logo_bytes(value)
        img = open_checked(data)
    except ImageRejected as exc:
        raise LogoRefused(f"SOCIALSHOP['BRAND_LOGO'] = {value!r} was refused: {exc}") from None
    except (FileNotFoundError, OSError) as exc:
        raise LogoRefused(f"SOCIALSHOP['BRAND_LOGO'] = {value!r} cannot be read: {exc}") from None
    img = ImageOps.exif_transpose(img) or img
    logo = img.convert("RGBA")  # keep transparency: the logo sits on its own plate
    logo.load()
    return logo


def brand_logo() -> Image.Image | None:
    """The brand logo as RGBA, or None when ``BRAND_LOGO`` is empty; ``LogoRefused`` when it is unusable."""
    value = str(app_settings.BRAND_LOGO or "")
    if not value:
        return None
    try:
        modified = os.path.getmtime(value) if os.path.isabs(value) else default_storage.get_modified_time(value).timestamp()
    except (OSError, NotImplementedError, ValueError):
        modified = 0.0
    return _logo(value, modified)


def decode(data: bytes) -> Image.Image:
    """A clean RGB picture from bytes (the bench and tests use the same path as a product photo)."""
    return to_srgb(open_checked(data))

