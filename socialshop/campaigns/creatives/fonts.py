"""Fonts for ad creatives: the script of each character, splitting text into runs by script, and the
installed font that covers each script (Noto first, DejaVu as fallback), found under
``SOCIALSHOP["CREATIVE_FONT_DIRS"]`` and cached per process.

Text layout (wrapping, shrinking, ellipsis) is creatives/text.py; drawing an ad is creatives/render.py.
"""
from __future__ import annotations

import bisect
import os
import unicodedata
from collections.abc import Iterator
from functools import lru_cache
from typing import NamedTuple

from PIL import ImageFont, features

from socialshop.conf import app_settings
from socialshop.exceptions import ConfigurationError

LATIN, GREEK, CYRILLIC, ARABIC, HEBREW = "latin", "greek", "cyrillic", "arabic", "hebrew"
DEVANAGARI, THAI, HAN, KANA, HANGUL = "devanagari", "thai", "han", "kana", "hangul"
COMMON = "common"  # digits, punctuation, spaces, symbols: they take the script of their neighbours

# Unicode blocks -> script (Unicode Scripts.txt, grouped by block; enough for the scripts we draw).
_RANGES: tuple[tuple[int, int, str], ...] = (
    (0x0041, 0x005A, LATIN), (0x0061, 0x007A, LATIN), (0x00AA, 0x00AA, LATIN), (0x00BA, 0x00BA, LATIN),
    (0x00C0, 0x00D6, LATIN), (0x00D8, 0x00F6, LATIN), (0x00F8, 0x024F, LATIN), (0x0250, 0x02AF, LATIN),
    (0x0370, 0x03FF, GREEK), (0x0400, 0x052F, CYRILLIC), (0x0590, 0x05FF, HEBREW), (0x0600, 0x06FF, ARABIC),
    (0x0750, 0x077F, ARABIC), (0x08A0, 0x08FF, ARABIC), (0x0900, 0x097F, DEVANAGARI), (0x0E00, 0x0E7F, THAI),
    (0x1100, 0x11FF, HANGUL), (0x1C80, 0x1C8F, CYRILLIC), (0x1E00, 0x1EFF, LATIN), (0x1F00, 0x1FFF, GREEK),
    (0x2E80, 0x2FDF, HAN), (0x3005, 0x3007, HAN), (0x3040, 0x30FF, KANA), (0x3130, 0x318F, HANGUL),
    (0x31F0, 0x31FF, KANA), (0x3400, 0x4DBF, HAN), (0x4E00, 0x9FFF, HAN), (0xA8E0, 0xA8FF, DEVANAGARI),
    (0xAC00, 0xD7AF, HANGUL), (0xF900, 0xFAFF, HAN), (0xFB00, 0xFB06, LATIN), (0xFB1D, 0xFB4F, HEBREW),
    (0xFB50, 0xFDFF, ARABIC), (0xFE70, 0xFEFF, ARABIC), (0xFF21, 0xFF3A, LATIN), (0xFF41, 0xFF5A, LATIN),
    (0xFF66, 0xFF9F, KANA), (0x20000, 0x2FFFF, HAN),
)
_STARTS = [start for start, _, _ in _RANGES]

RTL_SCRIPTS = frozenset({ARABIC, HEBREW})
# Scripts written without spaces between words: a line may break between any two grapheme clusters.
# (Thai has words but no spaces; breaking by cluster is legible, a dictionary would be better.)
UNSPACED_SCRIPTS = frozenset({THAI, HAN, KANA, HANGUL})
# BCP 47 language given to raqm per script, so HarfBuzz picks the right local forms.
LANGUAGES = {ARABIC: "ar", HEBREW: "he", DEVANAGARI: "hi", THAI: "th", HAN: "zh", KANA: "ja", HANGUL: "ko",
             GREEK: "el", CYRILLIC: "ru"}
# Characters a font must draw to count as covering the script.
SAMPLES = {LATIN: "Aaéß", GREEK: "Ωλά", CYRILLIC: "Жяё", ARABIC: "بعة", HEBREW: "שאל", DEVANAGARI: "कखि",
           THAI: "กขั", HAN: "中国字", KANA: "あア", HANGUL: "한글", COMMON: "0%"}
# Preferred files per script, best first: "file name" or "file name#face name" inside a collection.
_NOTO_CJK = "NotoSansCJK-{w}.ttc#Noto Sans CJK {lang}"
PREFERRED: dict[str, tuple[str, ...]] = {
    LATIN: ("NotoSans-{w}.ttf", "DejaVuSans{dw}.ttf"),
    GREEK: ("NotoSans-{w}.ttf", "DejaVuSans{dw}.ttf"),
    CYRILLIC: ("NotoSans-{w}.ttf", "DejaVuSans{dw}.ttf"),
    COMMON: ("NotoSans-{w}.ttf", "DejaVuSans{dw}.ttf"),
    ARABIC: ("NotoSansArabic-{w}.ttf", "NotoNaskhArabic-{w}.ttf", "DejaVuSans{dw}.ttf"),
    HEBREW: ("NotoSansHebrew-{w}.ttf", "DejaVuSans{dw}.ttf"),
    DEVANAGARI: ("NotoSansDevanagari-{w}.ttf",),
    THAI: ("NotoSansThai-{w}.ttf", "NotoSansThaiLooped-{w}.ttf"),
    HAN: (_NOTO_CJK.replace("{lang}", "SC"), "NotoSansCJKsc-{w}.otf"),
    KANA: (_NOTO_CJK.replace("{lang}", "JP"), "NotoSansCJKjp-{w}.otf"),
    HANGUL: (_NOTO_CJK.replace("{lang}", "KR"), "NotoSansCJKkr-{w}.otf"),
}
FONT_EXTENSIONS = (".ttf", ".otf", ".ttc")
INSTALL_HINT = "install open fonts: apt-get install fonts-noto-core fonts-noto-cjk fonts-dejavu-core"


class FontMissing(ConfigurationError):
    """No installed font covers a script the text needs; the message names the script and the folders."""


class Face(NamedTuple):
    """One font face on disk: the file and, in a collection (.ttc), the face's index."""

    path: str
    index: int = 0


def script_of(char: str) -> str:
    """The script of one character; combining marks and everything unlisted are ``COMMON``."""
    code = ord(char)
    at = bisect.bisect_right(_STARTS, code) - 1
    if at >= 0 and _RANGES[at][0] <= code <= _RANGES[at][1]:
        return _RANGES[at][2]
    return COMMON


def is_mark(char: str) -> bool:
    """A combining mark or joiner: it belongs to the cluster of the character before it."""
    return unicodedata.category(char) in ("Mn", "Mc", "Me") or char in "\u200c\u200d\ufe0f"


def script_runs(text: str) -> Iterator[tuple[str, str]]:
    """(script, text) runs: common characters join the run before them (or the first run at the start)."""
    scripts = [script_of(ch) for ch in text]
    first = next((s for s in scripts if s != COMMON), LATIN)
    current, start = first, 0
    for i, script in enumerate(scripts):
        if script != COMMON and script != current:
            if i > start:
                yield current, text[start:i]
            current, start = script, i
    if start < len(text):
        yield current, text[start:]


def paragraph_rtl(text: str) -> bool:
    """Right-to-left when the first character with a strong direction is Arabic or Hebrew (UAX #9, P2)."""
    for ch in text:
        script = script_of(ch)
        if script != COMMON:
            return script in RTL_SCRIPTS
    return False


def font_dirs() -> tuple[str, ...]:
    """The folders searched for fonts (``CREATIVE_FONT_DIRS``), read when called."""
    value = app_settings.CREATIVE_FONT_DIRS
    return tuple(str(v) for v in ([value] if isinstance(value, str) else value))


@lru_cache(maxsize=8)
def _files(dirs: tuple[str, ...]) -> dict[str, str]:
    """File name -> path of every font file under ``dirs`` (the first one found wins)."""
    found: dict[str, str] = {}
    for root_dir in dirs:
        for root, _subdirs, names in sorted(os.walk(root_dir)):
            for name in sorted(names):
                if name.lower().endswith(FONT_EXTENSIONS):
                    found.setdefault(name, os.path.join(root, name))
    return found


@lru_cache(maxsize=64)
def _collection_index(path: str, face_name: str) -> int | None:
    for index in range(16):
        try:
            family = ImageFont.truetype(path, 12, index=index).getname()[0]
        except OSError:
            return None
        if family == face_name:
            return index
    return None


@lru_cache(maxsize=512)
def load(face: Face, size: int) -> ImageFont.FreeTypeFont:
    """The font of ``face`` at ``size`` pixels, with raqm layout when Pillow has it (cached per process)."""
    engine = ImageFont.Layout.RAQM if features.check("raqm") else ImageFont.Layout.BASIC
    return ImageFont.truetype(face.path, size, index=face.index, layout_engine=engine)


@lru_cache(maxsize=4096)
def covers(face: Face, char: str) -> bool:
    """Whether ``face`` has a glyph for ``char`` (its drawing differs from the missing-glyph box)."""
    font = load(face, 24)
    if char.isspace():
        return True
    return bytes(font.getmask(char)) != bytes(font.getmask("\U0010fffd"))


def _candidates(script: str, bold: bool) -> Iterator[Face]:
    files = _files(font_dirs())
    for pattern in PREFERRED.get(script, ()):
        name = pattern.format(w="Bold" if bold else "Regular", dw="-Bold" if bold else "")
        file_name, _, face_name = name.partition("#")
        path = files.get(file_name)
        if path is None:
            continue
        if face_name:
            index = _collection_index(path, face_name)
            if index is not None:
                yield Face(path, index)
        else:
            yield Face(path, 0)
    if bold:  # a script with no bold face is drawn in its regular face
        yield from _candidates(script, False)
        return
    # Last resort: any installed font that draws the script, regular faces first.
    for name in sorted(files, key=lambda n: ("Regular" not in n, n)):
        yield Face(files[name], 0)


@lru_cache(maxsize=128)
def _face_for(script: str, bold: bool, dirs: tuple[str, ...]) -> Face:
    sample = SAMPLES.get(script, SAMPLES[LATIN])
    for face in _candidates(script, bold):
        try:
            if all(covers(face, ch) for ch in sample):
                return face
        except OSError:
            continue  # an unreadable file: try the next one
    raise FontMissing(
        f"No font covers {script} text (looked in SOCIALSHOP['CREATIVE_FONT_DIRS'] = {list(dirs)!r}); {INSTALL_HINT}")


def face_for(script: str, *, bold: bool = False) -> Face:
    """The face that draws ``script`` (``FontMissing`` naming the script when none is installed)."""
    return _face_for(script, bold, font_dirs())


def face_for_char(char: str, preferred: Face, *, bold: bool = False) -> Face:
    """``preferred`` when it draws ``char``, else the common (Latin) face, else any face that draws it."""
    if covers(preferred, char):
        return preferred
    common = face_for(COMMON, bold=bold)
    if covers(common, char):
        return common
    for face in _candidates(COMMON, bold):
        if covers(face, char):
            return face
    return preferred  # nothing installed draws it (an emoji, say): the missing-glyph box, not an error


def missing_scripts() -> list[str]:
    """The scripts of ``SAMPLES`` no installed font covers (the system check reports them)."""
    missing = []
    for script in SAMPLES:
        try:
            face_for(script)
        except FontMissing:
            missing.append(script)
    return missing


def clear_caches() -> None:
    """Forget found files and faces (tests that change ``CREATIVE_FONT_DIRS``)."""
    for cached in (_files, _collection_index, load, covers, _face_for):
        cached.cache_clear()
