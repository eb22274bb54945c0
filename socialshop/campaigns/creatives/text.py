"""Text that fits a box in any script: split into runs by script (each in a covering font), wrapped at
spaces or, in scripts without spaces (Thai, Chinese, Japanese, Korean) and in words wider than the box,
between grapheme clusters; shrunk step by step to a minimum size, then cut with an ellipsis.

Right-to-left text (Arabic, Hebrew) is shaped and reordered by raqm (``direction="rtl"``); wrapping is
ours because Pillow's own wrapping refuses right-to-left text. Fonts: creatives/fonts.py.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, ImageDraw

from socialshop.campaigns.creatives.fonts import (
    COMMON, LANGUAGES, RTL_SCRIPTS, UNSPACED_SCRIPTS, Face, face_for, face_for_char, is_mark, load, paragraph_rtl,
    script_of, script_runs,
)

ELLIPSIS = "\u2026"
# Thai vowels written before their consonant (U+0E40-U+0E44): a line never breaks right after one.
THAI_LEADING = "\u0e40\u0e41\u0e42\u0e43\u0e44"
SHRINK = 0.9  # each step tries 90 % of the previous size


@dataclass(frozen=True, slots=True)
class Style:
    """How a block of text may be set: its largest and smallest size, line limit, weight and leading."""

    size: int
    min_size: int
    max_lines: int = 2
    bold: bool = False
    leading: float = 1.12  # line height as a multiple of the fonts' own ascent + descent


@dataclass(frozen=True, slots=True)
class Piece:
    """A run of one face and direction inside a line, in logical order."""

    text: str
    face: Face
    rtl: bool
    language: str


@dataclass(frozen=True, slots=True)
class Line:
    pieces: tuple[Piece, ...]
    width: float


@dataclass(frozen=True, slots=True)
class Fitted:
    """Text set to fit: its lines, the size used, its height, direction and whether it was cut."""

    lines: tuple[Line, ...]
    size: int
    height: int
    rtl: bool
    truncated: bool
    line_height: int
    ascent: int

    @property
    def width(self) -> float:
        return max((line.width for line in self.lines), default=0.0)


def clusters(text: str) -> list[str]:
    """Grapheme clusters, near enough for line breaking: a character with its combining marks."""
    out: list[str] = []
    for ch in text:
        if out and (is_mark(ch) or out[-1].endswith("\u200d") or out[-1][-1] in THAI_LEADING):
            out[-1] += ch
        else:
            out.append(ch)
    return out


def units(text: str) -> list[str]:
    """Pieces a line may break after: words with their trailing spaces, or single clusters in unspaced scripts.

    Punctuation stays with what it follows ("。" never starts a line).
    """
    out: list[str] = []
    for cluster in clusters(" ".join(text.split())):
        script = script_of(cluster[0])
        unspaced = script in UNSPACED_SCRIPTS
        if not out:
            out.append(cluster)
        elif cluster.isspace():
            out[-1] += cluster
        elif out[-1].endswith(" ") or unspaced or script_of(out[-1].rstrip()[-1:] or " ") in UNSPACED_SCRIPTS:
            if script == COMMON and not out[-1].endswith(" ") and not cluster.isalnum():
                out[-1] += cluster  # closing punctuation after an unspaced character
            else:
                out.append(cluster)
        else:
            out[-1] += cluster
    return out


def pieces(text: str, *, bold: bool) -> list[Piece]:
    """``text`` as runs of one face each: by script, then characters the script's font lacks in the common face."""
    out: list[Piece] = []
    for script, run in script_runs(text):
        face = face_for(script, bold=bold)
        rtl, language = script in RTL_SCRIPTS, LANGUAGES.get(script, "")
        for ch in run:
            if out and is_mark(ch):  # a combining mark is shaped with its base character, in its font
                last = out[-1]
                out[-1] = Piece(last.text + ch, last.face, last.rtl, last.language)
                continue
            use = face if script_of(ch) != COMMON else face_for_char(ch, face, bold=bold)
            if out and out[-1].face == use and out[-1].rtl == rtl:
                last = out[-1]
                out[-1] = Piece(last.text + ch, use, rtl, last.language)
            else:
                out.append(Piece(ch, use, rtl, language))
    return out


@lru_cache(maxsize=16384)
def _length(text: str, face: Face, size: int, rtl: bool, language: str) -> float:
    return load(face, size).getlength(text, direction="rtl" if rtl else "ltr", language=language or None)


@lru_cache(maxsize=16384)
def _reach(text: str, face: Face, size: int, rtl: bool, language: str) -> float:
    """How far right of its origin ``text`` inks or advances, whichever is further: a combining mark the face
    places past the advance (an acute on a CJK comma: 84 px of ink for a 56 px advance) counts."""
    font = load(face, size)
    direction = "rtl" if rtl else "ltr"
    ink = font.getbbox(text, direction=direction, language=language or None, anchor="ls")[2] if text.strip() else 0
    return max(float(ink), _length(text, face, size, rtl, language))


def measure(parts: list[Piece] | tuple[Piece, ...], size: int) -> float:
    """Width in pixels of ``parts`` set at ``size``: the advances, plus the furthest any part inks past its own
    advance (whichever part a right-to-left line shows last, its mark is not clipped)."""
    advances = [_length(p.text, p.face, size, p.rtl, p.language) for p in parts]
    overhang = max((_reach(p.text, p.face, size, p.rtl, p.language) - a for p, a in zip(parts, advances)), default=0.0)
    return sum(advances) + max(0.0, overhang)


def _merge(parts: list[Piece]) -> tuple[Piece, ...]:
    merged: list[Piece] = []
    for part in parts:
        if merged and merged[-1].face == part.face and merged[-1].rtl == part.rtl:
            merged[-1] = Piece(merged[-1].text + part.text, part.face, part.rtl, merged[-1].language)
        else:
            merged.append(part)
    if merged:  # a line's trailing space takes no room
        last = merged[-1]
        merged[-1] = Piece(last.text.rstrip(), last.face, last.rtl, last.language)
        if not merged[-1].text:
            merged.pop()
    return tuple(merged)


def _split_wide(unit_parts: list[list[Piece]], widths: list[float], *, width: float, size: int,
                bold: bool, texts: list[str]) -> tuple[list[list[Piece]], list[float], list[str]]:
    """Units wider than a line, broken into clusters (a long word, a URL, 300 characters without spaces)."""
    out_parts, out_widths, out_texts = [], [], []
    for parts, w, text in zip(unit_parts, widths, texts):
        if w <= width:
            out_parts.append(parts)
            out_widths.append(w)
            out_texts.append(text)
            continue
        for cluster in clusters(text):
            cp = pieces(cluster, bold=bold)
            out_parts.append(cp)
            out_widths.append(measure(cp, size))
            out_texts.append(cluster)
    return out_parts, out_widths, out_texts


def _wrap(text: str, *, width: float, size: int, bold: bool) -> list[list[Piece]]:
    texts = units(text)
    unit_parts = [pieces(t, bold=bold) for t in texts]
    widths = [measure(p, size) for p in unit_parts]
    unit_parts, widths, texts = _split_wide(unit_parts, widths, width=width, size=size, bold=bold, texts=texts)
    lines: list[list[Piece]] = []
    current: list[Piece] = []
    used = 0.0
    for parts, w, t in zip(unit_parts, widths, texts):
        trailing = measure(pieces(" ", bold=bold), size) if t.endswith(" ") else 0.0
        if current and used + w - trailing > width:
            lines.append(current)
            current, used = [], 0.0
        current.extend(parts)
        used += w
    if current:
        lines.append(current)
    return lines


def _metrics(parts: list[Piece] | tuple[Piece, ...], size: int) -> tuple[int, int]:
    ascent = descent = 0
    for part in parts:
        a, d = load(part.face, size).getmetrics()
        ascent, descent = max(ascent, a), max(descent, d)
    return ascent, descent


def _ellipsize(parts: list[Piece], *, width: float, size: int, bold: bool) -> tuple[Piece, ...]:
    """The longest start of ``parts`` (by cluster) that fits ``width`` with an ellipsis after it."""
    text = "".join(p.text for p in parts).rstrip()
    cut = clusters(text)
    while cut:
        candidate = "".join(cut).rstrip() + ELLIPSIS
        line = _merge(pieces(candidate, bold=bold))
        if measure(line, size) <= width:
            return line
        cut.pop()
    return _merge(pieces(ELLIPSIS, bold=bold))


def fit(text: str, *, width: float, height: float, style: Style) -> Fitted:
    """Set ``text`` in at most ``style.max_lines`` lines inside ``width`` x ``height``.

    The largest size from ``style.size`` down to ``style.min_size`` (steps of 10 %) at which everything
    fits wins; when nothing fits at the minimum, the last line ends with an ellipsis.
    """
    text = " ".join((text or "").split())
    rtl = paragraph_rtl(text)
    size, truncated = style.size, False
    while True:
        raw = _wrap(text, width=width, size=size, bold=style.bold)
        ascent, descent = _metrics([p for line in raw for p in line] or pieces(" ", bold=style.bold), size)
        line_height = round((ascent + descent) * style.leading)
        limit = min(style.max_lines, max(1, int((height - (ascent + descent)) // line_height) + 1))
        fits = len(raw) <= limit and all(measure(_merge(line), size) <= width for line in raw)
        smaller = max(style.min_size, int(size * SHRINK))
        if fits or smaller == size:
            break
        size = smaller
    if len(raw) > limit:
        truncated = True
        raw = raw[:limit - 1] + [_ellipsize(raw[limit - 1] + [p for line in raw[limit:] for p in line],
                                            width=width, size=size, bold=style.bold)]
    lines = []
    for line in raw:
        merged = _merge(list(line))
        if measure(merged, size) > width:  # one cluster wider than the box (a huge glyph): cut it
            merged, truncated = _ellipsize(list(merged), width=width, size=size, bold=style.bold), True
        lines.append(Line(merged, measure(merged, size)))
    ascent, descent = _metrics([p for line in lines for p in line.pieces] or pieces(" ", bold=style.bold), size)
    line_height = round((ascent + descent) * style.leading)
    total = (ascent + descent) + line_height * (len(lines) - 1) if lines else 0
    return Fitted(tuple(lines), size, total, rtl, truncated, line_height, ascent)


def visual_order(line: Line, rtl: bool) -> tuple[Piece, ...]:
    """Pieces left to right: a right-to-left paragraph places its runs from the right.

    This applies UAX #9 at the level of runs (raqm orders the characters inside each run); a run of
    digits or punctuation takes the direction of the script run it belongs to.
    """
    if not rtl:
        return line.pieces
    return tuple(reversed(line.pieces))


def draw(fitted: Fitted, *, box_width: int, align: str = "start", pad: int = 0) -> Image.Image:
    """An ``L`` mask of ``box_width`` x ``fitted.height`` plus ``pad`` on every side, the text in white.

    ``align``: "start" (left, or right for a right-to-left paragraph), "end" or "center". The pad
    keeps marks that reach past the fonts' metrics visible (and measurable) instead of clipped.
    """
    mask = Image.new("L", (max(1, box_width) + 2 * pad, max(1, fitted.height) + 2 * pad), 0)
    pen = ImageDraw.Draw(mask)
    for n, line in enumerate(fitted.lines):
        if align == "center":
            x = (box_width - line.width) / 2
        elif (align == "start") == fitted.rtl:
            x = box_width - line.width
        else:
            x = 0.0
        x += pad
        baseline = pad + fitted.ascent + n * fitted.line_height
        for part in visual_order(line, fitted.rtl):
            font = load(part.face, fitted.size)
            direction = "rtl" if part.rtl else "ltr"
            pen.text((x, baseline), part.text, fill=255, font=font, anchor="ls", direction=direction,
                     language=part.language or None)
            x += _length(part.text, part.face, fitted.size, part.rtl, part.language)
    return mask
