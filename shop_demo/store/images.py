"""Product pictures drawn with Pillow at seed time (nothing is downloaded): a colour gradient, a
simple shape standing for the product kind, and the product name. Used by seed.py."""
from __future__ import annotations

import io
import random
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

SIZE = 800
SHAPES = ("dress", "top", "shoe", "shirt", "trousers", "coat", "bag", "hat", "ring", "mug", "lamp", "bed")


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    value = hex_colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def _mix(a: tuple[int, int, int], b: tuple[int, int, int], t: float) -> tuple[int, int, int]:
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b))  # type: ignore[return-value]


@lru_cache(maxsize=4)
def _gradient_mask(angle: int) -> Image.Image:
    return Image.linear_gradient("L").rotate(angle, resample=Image.Resampling.BILINEAR, expand=False).resize(
        (SIZE, SIZE), Image.Resampling.BILINEAR
    )


@lru_cache(maxsize=4)
def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


def _draw_shape(draw: ImageDraw.ImageDraw, shape: str, colour: tuple[int, int, int], rng: random.Random, view: int) -> None:
    """Draw a flat silhouette for ``shape``; ``view`` 2 is a tilted second angle."""
    c = SIZE // 2 + (rng.randint(-30, 30) if view == 2 else 0)
    top = 170
    dark = _mix(colour, (0, 0, 0), 0.3)
    light = _mix(colour, (255, 255, 255), 0.35)
    if shape == "dress":
        draw.polygon([(c - 70, top), (c + 70, top), (c + 180, 560), (c - 180, 560)], fill=colour)
        draw.rectangle([c - 70, top - 60, c + 70, top + 10], fill=dark)
    elif shape in ("top", "shirt", "coat"):
        length = 560 if shape == "coat" else 500
        draw.polygon([(c - 120, top), (c + 120, top), (c + 230, top + 120), (c + 170, top + 170), (c + 130, top + 130),
                      (c + 130, length), (c - 130, length), (c - 130, top + 130), (c - 170, top + 170), (c - 230, top + 120)], fill=colour)
        draw.polygon([(c - 45, top), (c + 45, top), (c, top + 60)], fill=light)
        if shape != "top":
            draw.line([(c, top + 60), (c, length)], fill=dark, width=6)
    elif shape == "trousers":
        draw.polygon([(c - 130, top), (c + 130, top), (c + 150, 580), (c + 25, 580), (c, top + 150),
                      (c - 25, 580), (c - 150, 580)], fill=colour)
        draw.rectangle([c - 130, top, c + 130, top + 30], fill=dark)
    elif shape == "shoe":
        draw.rounded_rectangle([c - 230, 380, c + 230, 500], radius=50, fill=colour)
        draw.polygon([(c - 230, 420), (c - 90, 270), (c + 20, 270), (c + 20, 420)], fill=colour)
        draw.rectangle([c - 235, 480, c + 235, 515], fill=light)
    elif shape == "bag":
        draw.arc([c - 110, 150, c + 110, 380], start=180, end=360, fill=dark, width=22)
        draw.rounded_rectangle([c - 190, 260, c + 190, 560], radius=30, fill=colour)
        draw.rectangle([c - 190, 330, c + 190, 345], fill=light)
    elif shape == "hat":
        draw.ellipse([c - 240, 420, c + 240, 520], fill=dark)
        draw.chord([c - 150, 230, c + 150, 530], start=180, end=360, fill=colour)
    elif shape == "ring":
        draw.ellipse([c - 170, 200, c + 170, 540], outline=colour, width=48)
        draw.regular_polygon((c, 215, 55), 6, fill=light)
    elif shape == "mug":
        draw.rounded_rectangle([c - 150, 230, c + 120, 540], radius=28, fill=colour)
        draw.ellipse([c + 70, 300, c + 210, 460], outline=colour, width=34)
    elif shape == "lamp":
        draw.polygon([(c - 90, 180), (c + 90, 180), (c + 170, 360), (c - 170, 360)], fill=light)
        draw.rectangle([c - 12, 360, c + 12, 520], fill=dark)
        draw.ellipse([c - 110, 500, c + 110, 560], fill=colour)
    else:  # bed and anything else: a folded stack of linen
        for i in range(3):
            y = 260 + i * 95
            draw.rounded_rectangle([c - 220 + i * 15, y, c + 220 - i * 15, y + 85], radius=24,
                                   fill=_mix(colour, (255, 255, 255), 0.15 * i))
    for _ in range(rng.randint(2, 5)):  # a few accents so no two pictures look alike
        x, y, r = rng.randint(60, SIZE - 60), rng.randint(60, 140), rng.randint(6, 16)
        draw.ellipse([x - r, y - r, x + r, y + r], fill=(255, 255, 255, 90))


def product_image(name: str, *, shape: str, colour: str, accent: str, view: int = 1, seed: str = "") -> bytes:
    """An 800x800 JPEG for a product: gradient, silhouette and name. Same inputs, same bytes."""
    rng = random.Random(f"{seed or name}:{view}")
    base, second = _rgb(accent), _rgb(colour)
    top = _mix(base, (255, 255, 255), 0.75 if view == 1 else 0.55)
    bottom = _mix(base, (255, 255, 255), 0.35 if view == 1 else 0.15)
    img = Image.composite(Image.new("RGB", (SIZE, SIZE), bottom), Image.new("RGB", (SIZE, SIZE), top),
                          _gradient_mask(0 if view == 1 else 90))
    draw = ImageDraw.Draw(img, "RGBA")
    draw.ellipse([SIZE // 2 - 250, 560, SIZE // 2 + 250, 620], fill=(0, 0, 0, 28))  # a soft floor shadow
    _draw_shape(draw, shape if shape in SHAPES else "bed", second, rng, view)
    draw.rectangle([0, SIZE - 150, SIZE, SIZE], fill=(255, 255, 255, 200))
    font = _font(44 if len(name) <= 26 else 36)
    width = draw.textlength(name, font=font)
    draw.text(((SIZE - width) / 2, SIZE - 118), name, fill=(29, 33, 37), font=font)
    label = "front" if view == 1 else "detail"
    small = _font(24)
    draw.text(((SIZE - draw.textlength(label, font=small)) / 2, SIZE - 56), label, fill=(106, 113, 123), font=small)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=80, optimize=False)
    return out.getvalue()
