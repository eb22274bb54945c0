"""Legible text on any background (WCAG 2.x AA): the contrast ratio of a text colour against the actual
pixels behind the text, the colour that passes, and, when neither light nor dark text passes over a busy
photo, the darkest-needed scrim under the text.

Used by creatives/render.py; the rule and its thresholds are documented in docs/campaigns.md.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from PIL import Image, ImageFilter, ImageStat

# WCAG 2.x 1.4.3: 4.5:1 for normal text, 3:1 for large text (18 pt, about 24 px at 96 dpi).
NORMAL, LARGE = 4.5, 3.0
# Ads are shown at about half their pixel size in a phone feed, so "large" means twice 24 px here.
LARGE_TEXT_PX = 48
# Our measurement rounds linear light to 1/255 steps; aim this much above the threshold.
MARGIN = 0.15
LIGHT, DARK = (255, 255, 255), (17, 17, 17)
# "Behind the text": every pixel within one 8-pixel cell of a drawn pixel (at least 8 px around each glyph).
CELL = 8


def _linear(channel: int) -> float:
    c = channel / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


_LUT = [round(_linear(v) * 255) for v in range(256)]
_ANY = [0] + [255] * 255  # any ink at all -> full


def luminance(rgb: tuple[int, int, int]) -> float:
    """WCAG relative luminance of an sRGB colour (0 black to 1 white)."""
    r, g, b = (_linear(v) for v in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def ratio(a: float, b: float) -> float:
    """WCAG contrast ratio of two relative luminances (1 to 21)."""
    light, dark = max(a, b), min(a, b)
    return (light + 0.05) / (dark + 0.05)


def threshold(size_px: int) -> float:
    """The AA ratio text of ``size_px`` needs."""
    return LARGE if size_px >= LARGE_TEXT_PX else NORMAL


def behind(ink: Image.Image) -> Image.Image:
    """An ``L`` mask of the pixels around the text mask ``ink``: the background the text is read against.

    Cells of ``CELL`` pixels that hold ink, grown by one cell: cheaper than a per-pixel dilation and
    never smaller than an 8-pixel ring around every glyph.
    """
    cells = ink.resize((max(1, -(-ink.width // CELL)), max(1, -(-ink.height // CELL))), Image.Resampling.BOX,
                       reducing_gap=None) if ink.width >= CELL and ink.height >= CELL else ink
    grown = cells.point(_ANY).filter(ImageFilter.MaxFilter(3))
    return grown.resize((grown.width * CELL, grown.height * CELL), Image.Resampling.NEAREST).crop((0, 0, ink.width, ink.height))


def luminance_range(region: Image.Image, mask: Image.Image | None = None) -> tuple[float, float]:
    """Darkest and lightest relative luminance among the pixels of ``region`` (RGB) under ``mask``."""
    linear = region.convert("RGB").point(_LUT * 3).convert("L", (0.2126, 0.7152, 0.0722, 0))
    if mask is None:
        low, high = linear.getextrema()
    elif mask.getbbox() is None:
        return 0.0, 0.0  # no text: nothing to be legible against
    else:
        low, high = ImageStat.Stat(linear, mask).extrema[0]
    return low / 255, high / 255


@dataclass(frozen=True, slots=True)
class Legibility:
    """The text colour for a background, the scrim opacity it needs (0: none) and the ratio it reaches."""

    colour: tuple[int, int, int]
    scrim: float
    contrast: float
    scrimmed: Image.Image | None = None  # the region with the scrim applied, to paste back


def choose(region: Image.Image, *, size_px: int, mask: Image.Image | None = None,
           prefer: tuple[int, int, int] | None = None) -> Legibility:
    """The text colour that meets AA against every pixel of ``region`` under ``mask`` (all when None),
    with a dark scrim over the region when needed.

    ``prefer`` is tried first (a brand colour); then light and dark text; then light text on a black
    scrim of increasing opacity until the lightest pixel under it is dark enough.
    """
    need = threshold(size_px) + MARGIN
    low, high = luminance_range(region, mask)
    for colour in ((prefer,) if prefer else ()) + (LIGHT, DARK):
        text = luminance(colour)
        # The pixel nearest the text's own luminance is the worst one.
        worst = 1.0 if low <= text <= high else ratio(text, high if text > high else low)
        if worst >= need:
            return Legibility(colour, 0.0, worst)
    # A black scrim of opacity a scales every channel by f = 1 - a. sRGB-to-linear is convex and 0 at 0,
    # so each pixel's luminance drops to at most f times what it was: f = target / lightest suffices.
    # Half a 5 % step more covers blend's rounding to whole values (the tests measure the result).
    target = (luminance(LIGHT) + 0.05) / need - 0.05
    alpha = math.ceil((1 - target / high) * 20 + 0.5) / 20
    if alpha < 1.0:
        scrimmed = Image.blend(region.convert("RGB"), Image.new("RGB", region.size), alpha)
        return Legibility(LIGHT, alpha, ratio(luminance(LIGHT), high * (1 - alpha)), scrimmed)
    return Legibility(LIGHT, 1.0, 21.0, Image.new("RGB", region.size))  # a solid black panel: 21:1
