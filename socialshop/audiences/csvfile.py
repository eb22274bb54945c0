"""Reading an uploaded CSV safely: recognise what the file is (encoding, delimiter, not an image or a
workbook), read it line by line with a cap on line length, and mask values for display.

Used by audiences/lists.py (customer-list import); nothing here knows about customers or hashing.
"""
from __future__ import annotations

import codecs
import csv
import io
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

from socialshop.exceptions import SocialshopError
from socialshop.platforms.hashing import is_hashed

SAMPLE_BYTES = 64 * 1024  # read to detect the format; the header line must fit in it
MAX_LINE_BYTES = 1024 * 1024  # a longer line is reported and skipped, never held whole
READ_CHUNK = 64 * 1024
SNIFF_LINES = 50
DELIMITERS = ",;\t|"
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}

# Files people upload by mistake, by their first bytes, and what to tell them.
MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"),
    (b"RIFF", "a WebP image or other RIFF media"), (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive or an Excel .xlsx workbook (save it as CSV)"),
    (b"\xd0\xcf\x11\xe0", "an Excel .xls workbook (save it as CSV)"), (b"\x1f\x8b", "a gzip-compressed file"),
    (b"BM", "a BMP image"), (b"II*\x00", "a TIFF image"), (b"MM\x00*", "a TIFF image"),
)
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"), (codecs.BOM_UTF16_BE, "UTF-16"),
)


class ListImportError(SocialshopError, ValueError):
    """A customer list cannot be read or imported; the message says why in the shop owner's words."""


@dataclass(frozen=True, slots=True)
class CsvFormat:
    """What a CSV file turned out to be: its text encoding, delimiter and the csv dialect to read it."""

    encoding: str
    delimiter: str
    dialect: type[csv.Dialect]


def read_sample(fileobj: IO[bytes]) -> bytes:
    """The first ``SAMPLE_BYTES`` of a binary file; ``TypeError`` for a file opened in text mode."""
    data = fileobj.read(SAMPLE_BYTES)
    if isinstance(data, str):
        raise TypeError("open the customer list in binary mode ('rb'); it is decoded after its encoding is detected")
    return bytes(data or b"")


def _not_text(sample: bytes) -> str | None:
    for magic, what in MAGIC:
        if sample.startswith(magic):
            return f"the file is {what}, not a CSV text file"
    for bom, name in _BOMS:
        if sample.startswith(bom):
            return f"the file is {name} text; save it as CSV UTF-8 (Excel: 'CSV UTF-8 (comma delimited)')"
    if b"\x00" in sample:
        return "the file contains binary data (NUL bytes), not CSV text"
    return None


def _decode(sample: bytes) -> tuple[str, str]:
    """(encoding, text): UTF-8 (``utf-8-sig`` when it starts with a BOM), else Windows-1252 (Excel's default).

    A UTF-8 file with a few lines in another encoding stays UTF-8 (those lines are reported by the
    import): it is read as Windows-1252 only when its lines that are not UTF-8 outnumber those with
    UTF-8 accents, so one stray line does not garble every accented name.
    """
    encoding = "utf-8-sig" if sample.startswith(codecs.BOM_UTF8) else "utf-8"
    try:
        return encoding, sample.decode(encoding)
    except UnicodeDecodeError:
        pass
    broken = accented = 0
    for line in sample.split(b"\n"):
        try:
            line.decode("utf-8-sig")
        except UnicodeDecodeError:
            broken += 1
        else:
            accented += not line.isascii()
    if accented > broken:
        return encoding, sample.decode(encoding, errors="replace")
    try:
        return "cp1252", sample.decode("cp1252")
    except UnicodeDecodeError:
        raise ListImportError("the file is neither UTF-8 nor Windows-1252 text; save it as CSV UTF-8") from None


def _width_score(lines: list[str], delimiter: str) -> tuple[float, int]:
    """(share of rows with the most common width, that width) when read with ``delimiter``."""
    try:
        widths = [len(row) for row in csv.reader(lines, delimiter=delimiter, strict=False) if row]
    except csv.Error:
        return 0.0, 0
    if not widths:
        return 0.0, 0
    width, count = Counter(widths).most_common(1)[0]
    return (count / len(widths), width) if width > 1 else (0.0, width)


def _delimiter(lines: list[str]) -> str:
    """csv.Sniffer's delimiter when it splits the lines into equally wide rows; else the most consistent one."""
    try:
        sniffed = csv.Sniffer().sniff("".join(lines), delimiters=DELIMITERS).delimiter
    except csv.Error:
        sniffed = ""
    if sniffed and sniffed in DELIMITERS and _width_score(lines, sniffed)[0] >= 0.8:
        return sniffed
    best = max(DELIMITERS, key=lambda d: _width_score(lines, d))
    return best if _width_score(lines, best)[0] > 0 else ","  # one column


def detect(sample: bytes) -> tuple[CsvFormat, str]:
    """The format of a CSV from its first bytes, and the sample's complete lines as text.

    Raises ``ListImportError`` for an empty file, an image, a workbook, binary data, UTF-16 text,
    old Mac line ends (CR only) or a first line longer than the sample.
    """
    if not sample.strip():
        raise ListImportError("the file is empty")
    why = _not_text(sample)
    if why:
        raise ListImportError(why)
    if len(sample) >= SAMPLE_BYTES:
        end = sample.rfind(b"\n")
        if end < 0:
            raise ListImportError(f"line 1 is longer than {SAMPLE_BYTES // 1024} KiB: this is not a customer list CSV")
        sample = sample[:end + 1]
    if b"\n" not in sample and sample.strip(b"\r").count(b"\r"):
        raise ListImportError("the file's lines end with CR only (old Mac format); save it as CSV UTF-8")
    encoding, text = _decode(sample)
    controls = sum(1 for ch in text if ch not in "\t\r\n\f" and unicodedata.category(ch) == "Cc")
    if controls > max(2, len(text) // 100):
        raise ListImportError("the file contains binary data (control characters), not CSV text")
    lines = [line for line in physical_lines(text) if line.strip()][:SNIFF_LINES]
    delimiter = _delimiter(lines)
    dialect = type("ListDialect", (csv.excel,), {"delimiter": delimiter, "skipinitialspace": delimiter != "\t"})
    return CsvFormat(encoding=encoding, delimiter=delimiter, dialect=dialect), text


def physical_lines(text: str) -> list[str]:
    """``text`` split after each LF only, as ``Lines`` reads a file (a lone CR stays inside its line)."""
    parts = text.split("\n")
    return [part + "\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


class Lines:
    """The decoded physical lines of a binary file: ``head`` (bytes already read), then the rest of ``stream``.

    An iterator for ``csv.reader``. A line over ``MAX_LINE_BYTES`` is read past in chunks (never held
    whole) and, like a line that does not decode, reported through ``on_skip(line_number, message)``.
    ``number`` is the number of the last line read; ``first`` the first line handed out since it was
    last set to 0 (the start of a CSV record).
    """

    def __init__(self, head: bytes, stream: IO[bytes], *, encoding: str, on_skip: Callable[[int, str], None]) -> None:
        self._head = io.BytesIO(head)
        self._stream = stream
        self._bom = encoding == "utf-8-sig"
        self.encoding = "utf-8" if self._bom else encoding
        self._on_skip = on_skip
        self.number = 0
        self.first = 0

    def _readline(self, limit: int) -> bytes:
        line = self._head.readline(limit)
        if len(line) < limit and not line.endswith(b"\n"):
            rest = self._stream.readline(limit - len(line))
            if isinstance(rest, str):
                raise TypeError("open the customer list in binary mode ('rb')")
            line += rest
        return line

    def __iter__(self) -> Lines:
        return self

    def __next__(self) -> str:
        while True:
            raw = self._readline(MAX_LINE_BYTES + 1)
            if not raw:
                raise StopIteration
            self.number += 1
            if len(raw) > MAX_LINE_BYTES:
                while raw and not raw.endswith(b"\n"):
                    raw = self._readline(READ_CHUNK)
                self._on_skip(self.number, f"longer than {MAX_LINE_BYTES // (1024 * 1024)} MB; skipped")
                continue
            if self.number == 1 and self._bom:
                raw = raw.removeprefix(codecs.BOM_UTF8)
            try:
                text = raw.decode(self.encoding)
            except UnicodeDecodeError:
                self._on_skip(self.number, f"not {self.encoding} text like the rest of the file; skipped")
                continue
            if not self.first:
                self.first = self.number
            return text


def mask(value: str) -> str:
    """A value shown with as little as needed to recognise its kind: ``j***@example.com``, ``***12``, ``J***``."""
    text = value.strip()
    if not text:
        return ""
    if is_hashed(text):
        return text[:8].lower() + "…"  # already a hash: the prefix says which
    local, at, domain = text.rpartition("@")
    if at and local:
        return f"{local[0]}***@{domain[:80]}"
    digits = [ch for ch in text if ch.isdigit()]
    if len(digits) >= 5:
        return "***" + "".join(digits[-2:])
    return text[0] + "***"
