"""Drawing one ad: the product photo cover-fitted (or a placeholder), the logo on a plate, the discount
badge, the headline, the title, the price with the regular price struck through, and the button, at
1080x1080, 1080x1920 and 1200x628. Text colour (and a scrim when needed) meets WCAG AA against the
pixels actually behind it (creatives/contrast.py); text never leaves the size's safe area.

What the ad says is creatives/content.py; storing the files is creatives/builder.py.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from PIL import Image, ImageDraw

from socialshop.campaigns.creatives import contrast, text
from socialshop.campaigns.creatives.content import AdText

Box = tuple[int, int, int, int]


@dataclass(frozen=True, slots=True)
class AdSize:
    """One output size and where things go on it (pixels). ``safe`` is where text and logo may be."""

    name: str
    width: int
    height: int
    safe: Box
    photo: Box  # the photo's area; the rest is the background colour
    column: Box  # the text column inside ``safe``
    bottom: bool  # the text sits at the bottom of the column (over the photo) rather than the top
    badge: tuple[int, int, int]  # badge centre x, y and radius
    logo: Box
    scale: float  # text sizes relative to the square's
    title_lines: int


# Stories: Meta asks for the top 14 % and bottom 20 % to stay free of text and logos (its UI covers them).
SIZES: tuple[AdSize, ...] = (
    AdSize("square", 1080, 1080, (54, 54, 1026, 1026), (0, 0, 1080, 1080), (54, 520, 1026, 1026), True,
           (916, 164, 110), (54, 54, 314, 154), 1.0, 2),
    AdSize("story", 1080, 1920, (54, 269, 1026, 1536), (0, 0, 1080, 1000), (54, 1040, 1026, 1536), False,
           (906, 419, 120), (54, 269, 334, 379), 1.0, 3),
    AdSize("landscape", 1200, 628, (32, 32, 1168, 596), (0, 0, 628, 628), (668, 130, 1168, 596), False,
           (122, 122, 90), (668, 32, 928, 112), 0.78, 3),
)
SIZE_NAMES = tuple(s.name for s in SIZES)


@dataclass(frozen=True, slots=True)
class Colours:
    background: tuple[int, int, int]
    accent: tuple[int, int, int]
    badge: tuple[int, int, int]


@dataclass(frozen=True, slots=True)
class PlacedText:
    """A block of text as drawn: where (its mask's box on the canvas), in which colour, at which size."""

    name: str
    box: Box
    colour: tuple[int, int, int]
    size: int
    mask: Image.Image = field(repr=False)
    truncated: bool
    rtl: bool

    @property
    def ink(self) -> Box | None:
        """The drawn pixels' bounding box on the canvas (None for empty text)."""
        inner = self.mask.getbbox()
        if inner is None:
            return None
        return (self.box[0] + inner[0], self.box[1] + inner[1], self.box[0] + inner[2], self.box[1] + inner[3])


@dataclass(slots=True)
class RenderedAd:
    image: Image.Image
    size: AdSize
    texts: list[PlacedText]
    placeholder: bool


def size_named(name: str) -> AdSize:
    for size in SIZES:
        if size.name == name:
            return size
    raise ValueError(f"unknown creative size {name!r}; use {', '.join(SIZE_NAMES)}")


def cover(img: Image.Image, size: tuple[int, int]) -> Image.Image:
    """``img`` scaled to fill ``size``, centred, the overflow cut off."""
    width, height = img.size
    aspect = size[0] / size[1]
    if width / height > aspect:
        crop_w, crop_h = height * aspect, float(height)
    else:
        crop_w, crop_h = float(width), width / aspect
    left, top = (width - crop_w) / 2, (height - crop_h) / 2
    return img.resize(size, Image.Resampling.LANCZOS, box=(left, top, left + crop_w, top + crop_h), reducing_gap=3.0)


@lru_cache(maxsize=8)
def placeholder(size: tuple[int, int]) -> Image.Image:
    """A neutral picture for a product without a usable image: a soft gradient and a photo outline."""
    w, h = size
    img = Image.linear_gradient("L").resize(size).point(lambda v: 226 - v // 12).convert("RGB")
    pen = ImageDraw.Draw(img)
    unit = min(w, h) // 6
    cx, cy = w // 2, h // 2
    line = (150, 150, 150)
    pen.rounded_rectangle((cx - unit, cy - unit * 3 // 4, cx + unit, cy + unit * 3 // 4), radius=unit // 6,
                          outline=line, width=max(3, unit // 14))
    pen.polygon([(cx - unit * 3 // 4, cy + unit // 2), (cx - unit // 5, cy - unit // 6), (cx + unit // 5, cy + unit // 4),
                 (cx + unit // 2, cy), (cx + unit * 3 // 4, cy + unit // 2)], fill=line)
    pen.ellipse((cx + unit // 4, cy - unit // 2, cx + unit // 2, cy - unit // 4), fill=line)
    return img


def _style(name: str, scale: float, lines: int = 1) -> text.Style:
    sizes = {"headline": (36, 24, False), "title": (68, 30, True), "price": (60, 32, True), "was": (38, 24, False),
             "cta": (38, 26, True), "badge": (52, 26, True)}
    size, smallest, bold = sizes[name]
    return text.Style(size=round(size * scale), min_size=round(smallest * scale), max_lines=lines, bold=bold)


@dataclass(slots=True)
class _Block:
    """A fitted text laid out on the canvas, not yet painted: its mask, where it goes and its size."""

    name: str
    fitted: text.Fitted
    mask: Image.Image
    box: Box


def _lay_out(name: str, fitted: text.Fitted, *, x: int, y: int, width: int, align: str = "start",
             strike: bool = False) -> _Block:
    pad = max(4, fitted.size // 4)
    mask = text.draw(fitted, box_width=width, align=align, pad=pad)
    if strike:  # the line through a struck price is part of the text: same colour, same contrast rule
        ink = mask.getbbox()
        if ink is not None:
            mid = pad + fitted.ascent - fitted.size * 0.32
            ImageDraw.Draw(mask).line((ink[0], mid, ink[2], mid), fill=255, width=max(2, fitted.size // 14))
    return _Block(name, fitted, mask, (x - pad, y - pad, x - pad + mask.width, y - pad + mask.height))


def _paint(canvas: Image.Image, blocks: list[_Block], *, scrim_box: Box | None = None) -> list[PlacedText]:
    """Paint ``blocks`` in one colour that meets AA against the pixels behind all of them (a scrim first if needed)."""
    blocks = [b for b in blocks if b.mask.getbbox() is not None]
    if not blocks:
        return []
    area = scrim_box or (min(b.box[0] for b in blocks), min(b.box[1] for b in blocks),
                         max(b.box[2] for b in blocks), max(b.box[3] for b in blocks))
    behind = Image.new("L", (area[2] - area[0], area[3] - area[1]), 0)
    for block in blocks:
        behind.paste(255, (block.box[0] - area[0], block.box[1] - area[1]), contrast.behind(block.mask))
    region = canvas.crop(area)
    choice = contrast.choose(region, size_px=min(b.fitted.size for b in blocks), mask=behind)
    if choice.scrimmed is not None:
        canvas.paste(choice.scrimmed, area[:2])
    placed = []
    for block in blocks:
        canvas.paste(choice.colour, block.box, block.mask)
        placed.append(PlacedText(block.name, block.box, choice.colour, block.fitted.size, block.mask,
                                 block.fitted.truncated, block.fitted.rtl))
    return placed


def _draw_logo(canvas: Image.Image, logo: Image.Image, box: Box) -> None:
    """The logo inside ``box`` on a white rounded plate, so any logo colour shows on any photo."""
    pad = 10
    room = (box[2] - box[0] - 2 * pad, box[3] - box[1] - 2 * pad)
    scale = min(room[0] / logo.width, room[1] / logo.height)
    fitted = logo.resize((max(1, round(logo.width * scale)), max(1, round(logo.height * scale))), Image.Resampling.LANCZOS)
    plate = (box[0], box[1], box[0] + fitted.width + 2 * pad, box[1] + fitted.height + 2 * pad)
    ImageDraw.Draw(canvas).rounded_rectangle(plate, radius=pad, fill=(255, 255, 255))
    canvas.paste(fitted, (box[0] + pad, box[1] + pad), fitted)


def _draw_badge(canvas: Image.Image, label: str, spec: AdSize, colours: Colours) -> list[PlacedText]:
    cx, cy, r = spec.badge
    ImageDraw.Draw(canvas).ellipse((cx - r, cy - r, cx + r, cy + r), fill=colours.badge)
    style = _style("badge", spec.scale, 2)
    inner = int(r * 1.41) - 2 * max(4, style.size // 4)  # the text box and its pad stay inside the circle
    fitted = text.fit(label, width=inner, height=inner, style=style)
    block = _lay_out("badge", fitted, x=cx - inner // 2, y=cy - fitted.height // 2, width=inner, align="center")
    return _paint(canvas, [block])


def render_ad(content: AdText, spec: AdSize, *, photo: Image.Image | None, logo: Image.Image | None,
              colours: Colours) -> RenderedAd:
    """Draw one ad of ``spec``'s size; ``photo`` is a clean RGB picture (None: the placeholder)."""
    canvas = Image.new("RGB", (spec.width, spec.height), colours.background)
    area = spec.photo
    area_size = (area[2] - area[0], area[3] - area[1])
    canvas.paste(cover(photo, area_size) if photo is not None else placeholder(area_size), area[:2])
    left, top, right, bottom = spec.column
    width = right - left
    gap = round(18 * spec.scale)
    # Fixed-height parts first (headline, price, button); the title gets the room that is left.
    head = text.fit(content.headline, width=width, height=200, style=_style("headline", spec.scale)) if content.headline else None
    price = text.fit(content.price, width=width, height=200, style=_style("price", spec.scale)) if content.price else None
    was = None
    if price is not None and content.was:
        was = text.fit(content.was, width=max(1, width - price.width - gap * 2), height=price.height,
                       style=_style("was", spec.scale))
    cta = text.fit(content.cta, width=width * 0.8, height=200, style=_style("cta", spec.scale))
    button_h = cta.height + round(cta.size * 0.9)
    fixed = sum(b.height + gap for b in (head, price) if b is not None) + button_h + gap
    title = text.fit(content.title, width=width, height=max(40, (bottom - top) - fixed),
                     style=_style("title", spec.scale, spec.title_lines))
    named = [("headline", head), ("title", title), ("price", price)]
    stack = sum(b.height + gap for _, b in named if b is not None)
    y = bottom - button_h - gap - stack if spec.bottom else top
    rtl = title.rtl
    blocks: list[_Block] = []
    for name, fitted in named:
        if fitted is None:
            continue
        if name == "price" and was is not None:
            px = int(right - fitted.width) if rtl else left
            blocks.append(_lay_out("price", fitted, x=px, y=y, width=int(fitted.width) + 1))
            wx = int(px - gap - was.width) if rtl else int(left + fitted.width + gap)
            blocks.append(_lay_out("was", was, x=wx, y=y + fitted.ascent - was.ascent, width=int(was.width) + 1,
                                   strike=True))
        else:
            blocks.append(_lay_out(name, fitted, x=left, y=y, width=width, align="end" if rtl != fitted.rtl else "start"))
        y += fitted.height + gap
    # One colour (and, over a busy photo, one scrim) for the whole text stack.
    pad = round(24 * spec.scale)
    scrim_box = (left - pad, min(b.box[1] for b in blocks) - pad // 2, right + pad, max(b.box[3] for b in blocks) + pad // 2)
    placed = _paint(canvas, blocks, scrim_box=scrim_box)
    # The button, aligned with the text.
    button_w = int(cta.width) + round(cta.size * 1.6)
    bx = right - button_w if rtl else left
    by = y if not spec.bottom else bottom - button_h
    ImageDraw.Draw(canvas).rounded_rectangle((bx, by, bx + button_w, by + button_h), radius=button_h // 2,
                                             fill=colours.accent)
    label = _lay_out("cta", cta, x=bx + (button_w - int(cta.width)) // 2, y=by + (button_h - cta.height) // 2,
                     width=int(cta.width) + 1, align="center")
    placed += _paint(canvas, [label])
    if logo is not None:
        _draw_logo(canvas, logo, spec.logo)
    if content.badge:
        placed += _draw_badge(canvas, content.badge, spec, colours)
    return RenderedAd(canvas, spec, placed, photo is None)
