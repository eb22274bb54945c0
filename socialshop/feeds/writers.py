"""Streaming feed writers: RSS 2.0 XML with the ``g:`` namespace, CSV and TSV, UTF-8 throughout.

Writers take items from ``feeds/items.py`` (text already free of XML-invalid characters), escape
them for their format, and write UTF-8 bytes to a binary stream in batches while hashing them, so
memory stays flat however large the catalogue. Which writer a feed uses: ``writer_for``.
"""
from __future__ import annotations

import abc
import csv
import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

from socialshop.feeds.items import INVALID_XML_CHARS
from socialshop.feeds.specs import Format, PlatformSpec

FLUSH_EVERY = 500  # items per encoded batch


@dataclass(frozen=True, slots=True)
class Channel:
    """The feed's own header data (the RSS channel)."""

    title: str
    link: str
    description: str


class Writer(abc.ABC):
    """Writes one feed file: ``open()``, ``write(item)`` per item, then ``close()``.

    ``size`` and ``sha256`` describe the bytes written so far.
    """

    content_type = "application/octet-stream"

    def __init__(self, stream: BinaryIO, spec: PlatformSpec, *, columns: Sequence[str], channel: Channel) -> None:
        self.stream = stream
        self.spec = spec
        self.columns = tuple(columns)
        self.channel = channel
        self.size = 0
        self._hash = hashlib.sha256()
        self._pending = 0

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()

    def _emit(self, text: str) -> None:
        data = text.encode("utf-8")
        self._hash.update(data)
        self.stream.write(data)
        self.size += len(data)

    @abc.abstractmethod
    def open(self) -> None:
        """Write the file's header (XML prolog and channel, or the CSV header row)."""

    @abc.abstractmethod
    def write(self, item: dict[str, Any], shared: dict[str, Any] | None = None) -> None:
        """Write one item: canonical field name -> str, list of str, or list of dicts (shipping).

        ``shared`` holds more fields of the item (``ItemMapper.map_parts``): the same dict object
        for the variants of one product, which writers render once and reuse while it repeats.
        """

    @abc.abstractmethod
    def close(self) -> None:
        """Write whatever is buffered and the file's trailer; the stream stays open."""


def xml_escape(text: str) -> str:
    """Escape text for an XML text node (the caller removed invalid characters already)."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")  # also keeps "]]>" out of the output
    return text


class XmlWriter(Writer):
    """RSS 2.0 with ``xmlns:g``; one element per line (Meta: no line over 5 MB)."""

    content_type = "application/xml; charset=utf-8"

    def __init__(self, stream: BinaryIO, spec: PlatformSpec, *, columns: Sequence[str], channel: Channel) -> None:
        super().__init__(stream, spec, columns=columns, channel=channel)
        self._buffer: list[str] = []
        self._tags = {name: spec.column(name) for name in columns}
        self._shared: dict[str, Any] | None = None  # the last shared part, and its rendering
        self._shared_text = ""
        self._fragments: dict[tuple[str, str], str] = {}
        self._id_tag, self._group_tag = spec.column("id"), spec.column("item_group_id")

    def open(self) -> None:
        c = self.channel
        self._emit(
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<rss version="2.0" xmlns:g="{self.spec.xml_namespace}">\n<channel>\n'
            f"<title>{xml_escape(INVALID_XML_CHARS.sub('', c.title))}</title>\n"
            f"<link>{xml_escape(INVALID_XML_CHARS.sub('', c.link))}</link>\n"
            f"<description>{xml_escape(INVALID_XML_CHARS.sub('', c.description))}</description>\n"
        )

    def write(self, item: dict[str, Any], shared: dict[str, Any] | None = None) -> None:
        out = self._buffer
        out.append("<item>\n")
        id_tag = self._id_tag
        fragments = self._fragments
        for name, value in item.items():
            if name == "id" or name == "item_group_id":
                tag = id_tag if name == "id" else self._group_tag
                out.append(f"<g:{tag}>{xml_escape(value)}</g:{tag}>\n")
                continue
            # Availability, colours, sizes and labels repeat: each element is built once.
            key = (name, value) if value.__class__ is str else None
            text = fragments.get(key) if key else None
            if text is None:
                parts: list[str] = []
                self._render({name: value}, parts)
                text = "".join(parts)
                if key:
                    if len(fragments) > 2_000:
                        fragments.clear()
                    fragments[key] = text
            out.append(text)
        if shared:
            if shared is not self._shared:
                parts = []
                self._render(shared, parts)
                self._shared, self._shared_text = shared, "".join(parts)
            out.append(self._shared_text)
        out.append("</item>\n")
        self._pending += 1
        if self._pending >= FLUSH_EVERY:
            self._flush()

    def _render(self, fields: dict[str, Any], out: list[str]) -> None:
        tags = self._tags
        for name, value in fields.items():
            tag = tags.get(name)
            if tag is None:
                continue
            if value.__class__ is str:
                out.append(f"<g:{tag}>{xml_escape(value)}</g:{tag}>\n")
            elif name == "shipping":
                for group in value:
                    inner = "".join(f"<g:{k}>{xml_escape(v)}</g:{k}>" for k, v in group.items())
                    out.append(f"<g:{tag}>{inner}</g:{tag}>\n")
            else:
                for one in value:
                    out.append(f"<g:{tag}>{xml_escape(one)}</g:{tag}>\n")

    def _flush(self) -> None:
        if self._buffer:
            self._emit("".join(self._buffer))
            self._buffer.clear()
        self._pending = 0

    def close(self) -> None:
        self._flush()
        self._emit("</channel>\n</rss>\n")


def shipping_text(groups: list[dict[str, str]]) -> str:
    """Shipping groups in the text form ``US:region:service:5.00 USD`` (every colon kept), comma-joined."""
    return ",".join(
        ":".join((g.get("country", ""), g.get("region", ""), g.get("service", ""), g.get("price", ""))) for g in groups
    )


class DelimitedWriter(Writer):
    """CSV or TSV with a header row; quoting by the csv module (delimiters, quotes, newlines)."""

    delimiter = ","
    content_type = "text/csv; charset=utf-8"

    def __init__(self, stream: BinaryIO, spec: PlatformSpec, *, columns: Sequence[str], channel: Channel) -> None:
        super().__init__(stream, spec, columns=columns, channel=channel)
        self._text = io.StringIO()
        self._csv = csv.writer(self._text, delimiter=self.delimiter, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
        self._positions = {name: index for index, name in enumerate(self.columns)}
        self._blank = [""] * len(self.columns)
        self._shared: dict[str, Any] | None = None  # the last shared part, and its row cells
        self._shared_row = self._blank

    def open(self) -> None:
        self._csv.writerow([self.spec.column(name) for name in self.columns])

    def write(self, item: dict[str, Any], shared: dict[str, Any] | None = None) -> None:
        if shared is not self._shared:
            self._shared = shared
            self._shared_row = [self._cell(name, shared.get(name, "")) for name in self.columns] if shared else self._blank
        row = self._shared_row.copy()
        positions = self._positions
        for name, value in item.items():
            index = positions.get(name)
            if index is not None:
                row[index] = self._cell(name, value)
        self._csv.writerow(row)
        self._pending += 1
        if self._pending >= FLUSH_EVERY:
            self._flush()

    @staticmethod
    def _cell(name: str, value: Any) -> str:
        if value.__class__ is str:
            return value
        return shipping_text(value) if name == "shipping" else ",".join(value)

    def _flush(self) -> None:
        text = self._text.getvalue()
        if text:
            self._emit(text)
            self._text.seek(0)
            self._text.truncate(0)
        self._pending = 0

    def close(self) -> None:
        self._flush()


class CsvWriter(DelimitedWriter):
    delimiter = ","
    content_type = "text/csv; charset=utf-8"


class TsvWriter(DelimitedWriter):
    delimiter = "\t"
    content_type = "text/tab-separated-values; charset=utf-8"


WRITERS: dict[str, type[Writer]] = {Format.XML: XmlWriter, Format.CSV: CsvWriter, Format.TSV: TsvWriter}


def writer_for(file_format: str) -> type[Writer]:
    """The writer class for a format; ``KeyError`` naming the format for an unknown one."""
    try:
        return WRITERS[file_format]
    except KeyError:
        raise KeyError(f"no writer for feed format {file_format!r}; known: {', '.join(WRITERS)}") from None
