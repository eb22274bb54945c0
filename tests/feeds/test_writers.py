"""Writers: strict XML, and CSV/TSV quoting of delimiters, quotes and newlines, read back by csv."""
from __future__ import annotations

import csv
import io

import pytest
from lxml import etree

from socialshop.feeds.specs import GOOGLE, META, TIKTOK
from socialshop.feeds.writers import Channel, CsvWriter, TsvWriter, XmlWriter, shipping_text

CHANNEL = Channel(title="Shop & Co <test>", link="https://shop.example.com", description="All products")
TRICKY = {
    "id": "A-1",
    "title": 'Comma, "quoted" and\ttab',
    "description": "Line one\nLine two\r\nwith ; semicolon",
    "additional_image_link": ["https://x.example/a.jpg", "https://x.example/b%2Cc.jpg"],
    "shipping": [{"country": "US", "price": "5.00 USD"}],
}
COLUMNS = ["id", "title", "description", "additional_image_link", "shipping"]


def _write(writer_cls, spec=GOOGLE, items=(TRICKY,)) -> bytes:  # type: ignore[no-untyped-def]
    stream = io.BytesIO()
    writer = writer_cls(stream, spec, columns=COLUMNS, channel=CHANNEL)
    writer.open()
    for item in items:
        writer.write(item)
    writer.close()
    return stream.getvalue()


@pytest.mark.parametrize("writer_cls,delimiter", [(CsvWriter, ","), (TsvWriter, "\t")])
def test_delimited_output_reads_back_exactly(writer_cls, delimiter):
    data = _write(writer_cls, META)

    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline=""), delimiter=delimiter))

    assert rows == [{
        "id": "A-1", "title": TRICKY["title"], "description": TRICKY["description"],
        "additional_image_link": "https://x.example/a.jpg,https://x.example/b%2Cc.jpg", "shipping": "US:::5.00 USD",
    }]


def test_xml_output_parses_strictly_with_repeated_and_nested_elements():
    data = _write(XmlWriter)

    root = etree.fromstring(data, etree.XMLParser(recover=False))
    ns = {"g": "http://base.google.com/ns/1.0"}
    assert root.tag == "rss" and root.get("version") == "2.0"
    assert root.findtext("channel/title") == "Shop & Co <test>"
    item = root.find("channel/item")
    assert item.findtext("g:title", namespaces=ns) == TRICKY["title"]
    assert [e.text for e in item.findall("g:additional_image_link", namespaces=ns)] == TRICKY["additional_image_link"]
    assert item.findtext("g:shipping/g:country", namespaces=ns) == "US"
    assert item.findtext("g:shipping/g:price", namespaces=ns) == "5.00 USD"


def test_xml_puts_one_element_per_line():
    data = _write(XmlWriter, items=[{**TRICKY, "description": "word " * 10000}])

    assert max(len(line) for line in data.split(b"\n")) < 60_000


def test_tiktok_names_the_id_column_sku_id():
    data = _write(CsvWriter, TIKTOK)

    assert data.decode().splitlines()[0].split(",")[0] == "sku_id"


def test_size_and_hash_describe_the_bytes_written():
    import hashlib

    stream = io.BytesIO()
    writer = XmlWriter(stream, GOOGLE, columns=COLUMNS, channel=CHANNEL)
    writer.open()
    for n in range(1200):  # crosses the flush batch size
        writer.write({**TRICKY, "id": f"id-{n}"})
    writer.close()

    assert writer.size == len(stream.getvalue())
    assert writer.sha256 == hashlib.sha256(stream.getvalue()).hexdigest()


def test_shipping_text_keeps_every_colon():
    assert shipping_text([{"country": "US", "price": "0 USD"}, {"country": "CA", "region": "ON", "price": "9.00 CAD"}]) == "US:::0 USD,CA:ON::9.00 CAD"
