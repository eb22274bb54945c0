"""The safe Pillow steps every image path shares: read with a size limit, open with a decompression-bomb
guard and only still raster formats, EXIF orientation and sRGB without metadata, encode.

Shoppable posts (posts/images.py) and ad creatives use these; nothing here knows a model.
"""
from __future__ import annotations

import io
import logging
import struct
import warnings
from typing import IO

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from socialshop.conf import app_settings
from socialshop.exceptions import SocialshopError

logger = logging.getLogger(__name__)

ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF")
# Larger pictures are refused before a single pixel is decoded (decompression bombs).
MAX_PIXELS = 50_000_000

_SRGB = ImageCms.createProfile("sRGB")


class ImageRejected(SocialshopError, ValueError):
    """The file is not an image we accept; the message says why in words a visitor understands."""


def read_limited(fileobj: IO[bytes], *, limit: int) -> bytes:
    """The file's bytes; ``ImageRejected`` when it holds more than ``limit`` bytes."""
    if hasattr(fileobj, "seek"):
        fileobj.seek(0)
    data = fileobj.read(limit + 1)
    if len(data) > limit:
        raise ImageRejected(f"The file is larger than {limit // (1024 * 1024) or limit} {'MB' if limit >= 1024 * 1024 else 'bytes'}.")
    return data


def declared_size(data: bytes) -> tuple[int, int] | None:
    """Width and height a PNG or GIF header declares (to explain files Pillow will not open)."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR" and len(data) >= 24:
        return struct.unpack(">II", data[16:24])
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        return struct.unpack("<HH", data[6:10])
    return None


def open_checked(data: bytes) -> Image.Image:
    """Open and fully decode ``data`` as a still raster image, or raise ``ImageRejected``.

    Refuses: empty files, SVG/XML, anything Pillow cannot identify, formats other than JPEG, PNG,
    WebP and GIF, more than ``MAX_PIXELS`` pixels (checked from the header, before decoding),
    0-pixel images, animations and truncated or corrupt files.
    """
    if not data:
        raise ImageRejected("The file is empty.")
    head = data[:1024].lstrip().lower()
    if head.startswith((b"<?xml", b"<svg", b"<!doctype svg")) or b"<svg" in head:
        raise ImageRejected("SVG images are not accepted (they can carry scripts); upload a JPEG, PNG or WebP photo.")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            img = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ImageRejected(f"The image has too many pixels (more than {MAX_PIXELS:,}); upload a smaller picture.") from None
        except UnidentifiedImageError:
            declared = declared_size(data)
            if declared is not None and 0 in declared:
                raise ImageRejected(f"The image has no pixels ({declared[0]}x{declared[1]}).") from None
            raise ImageRejected("The file is not a picture we can read; upload a JPEG, PNG, WebP or GIF image.") from None
        except (OSError, SyntaxError, ValueError) as exc:
            raise ImageRejected(f"The file is damaged and cannot be read as an image ({exc}).") from None
    width, height = img.size
    if width <= 0 or height <= 0:
        raise ImageRejected(f"The image has no pixels ({width}x{height}).")
    if width * height > MAX_PIXELS:
        raise ImageRejected(
            f"The image has too many pixels ({width:,} x {height:,}, more than {MAX_PIXELS:,}); upload a smaller picture."
        )
    if getattr(img, "is_animated", False) or getattr(img, "n_frames", 1) > 1:
        raise ImageRejected("Animated images are not accepted; upload a still picture.")
    try:
        img.load()
    except Image.DecompressionBombError:
        raise ImageRejected(f"The image has too many pixels (more than {MAX_PIXELS:,}).") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageRejected(f"The file is truncated or damaged and cannot be read as an image ({exc}).") from None
    return img


def to_srgb(img: Image.Image) -> Image.Image:
    """An 8-bit RGB copy in sRGB: EXIF orientation applied, alpha flattened on white, no metadata.

    CMYK is converted (through its embedded ICC profile when it has one) rather than refused: print
    workflows export CMYK JPEGs and shoppers should not meet an error for them. 16-bit greyscale is
    scaled to 8 bits (a plain convert would clip it to white).
    """
    icc = img.info.get("icc_profile")
    img = ImageOps.exif_transpose(img) or img
    if img.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        top = 65535 if img.mode.startswith("I;16") or (img.getextrema()[1] or 0) > 255 else 255
        img = img.convert("I").point(lambda value: value * (255 / top)).convert("L")
    elif img.mode == "F":
        img = img.convert("L")
    if img.mode in ("P", "PA"):
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "La", "RGBa"):
        rgba = img.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        img = flat
    if icc and img.mode in ("RGB", "CMYK", "L"):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            img = ImageCms.profileToProfile(img, source, _SRGB, outputMode="RGB")
        except (ImageCms.PyCMSError, OSError, ValueError):
            logger.info("ignoring an unusable ICC profile")  # fall back to a plain conversion below
    if img.mode != "RGB":
        img = img.convert("RGB")
    clean = Image.new("RGB", img.size)
    clean.paste(img)  # a fresh image: no info dict, so no EXIF, GPS, XMP or ICC is carried over
    return clean


def encode(img: Image.Image, fmt: str, *, quality: int = 85) -> bytes:
    """JPEG or WebP bytes of ``img`` with no metadata."""
    out = io.BytesIO()
    if fmt == "JPEG":
        img.save(out, "JPEG", quality=quality)  # baseline: progressive costs ~7x the encode time
    else:
        img.save(out, "WEBP", quality=quality - 5, method=4)
    return out.getvalue()


def validate_upload(fileobj: IO[bytes], *, limit: int | None = None) -> tuple[int, int]:
    """Check an uploaded file now (forms); returns its (width, height) or raises ``ImageRejected``."""
    data = read_limited(fileobj, limit=limit or int(app_settings.UPLOAD_MAX_BYTES))
    img = open_checked(data)
    if hasattr(fileobj, "seek"):
        fileobj.seek(0)
    return img.size
