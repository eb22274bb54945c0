"""Customer lists (CSV import): ``sniff`` a file for a masked preview and a suggested column mapping,
then ``import_list`` streams it, normalises and hashes each row (privacy/hashing.py) and stores
``CustomerListEntry`` rows; raw values never reach the database or the logs. docs/audiences.md,
"Customer lists". Reading the file is audiences/csvfile.py, header names audiences/columns.py, the
hashed export audiences/export.py.
"""
from __future__ import annotations

import csv
import itertools
import logging
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import IO

from django.db import connection
from django.utils import timezone

from socialshop.audiences.csvfile import (
    DELIMITER_NAMES, CsvFormat, ListImportError, Lines, detect, mask, physical_lines, read_sample,
)
from socialshop.audiences.columns import PREVIEW_ROWS, is_header_row, looks_like_data, mapping_from_data, suggest_mapping
from socialshop.audiences.models import Audience, CustomerListEntry, RuleKind
from socialshop.conf import app_settings
from socialshop.core.db import writing
from socialshop.core.jobs import single_flight
from socialshop.privacy.hashing import (
    hash_user_data, is_hashed, normalize_country, normalize_email, normalize_phone, sha256_hex,
)

__all__ = ["FIELDS", "ImportResult", "ListImportError", "Preview", "RowError", "import_list", "sniff"]

logger = logging.getLogger(__name__)

# The columns a list may carry, as ``hash_user_data`` names its inputs; email or phone identifies a row.
FIELDS: tuple[str, ...] = ("email", "phone", "first_name", "last_name", "country", "postcode")
IDENTIFIERS: tuple[str, ...] = ("email", "phone")
BATCH_SIZE = 2000  # rows per INSERT: large enough to be fast, small enough to keep memory flat
MAX_REPORTED_ERRORS = 1000  # invalid rows listed by line number; the count goes on past it
PROGRESS_EVERY = 10_000

_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s.][^@\s]*\.[^@\s.]+$")
MAX_EMAIL_CHARS = 254  # RFC 5321 path limit
MAX_PHONE_DIGITS = 15  # E.164

# Google: gmail.com and googlemail.com ignore dots and a "+suffix" in the local part (Customer Match
# and GA4 user data, reference/platforms.md F). Meta, TikTok and Pinterest hash the address as typed.
GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})

Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Preview:
    """What ``sniff`` found: the format, the columns, a suggested mapping and the first rows, masked.

    ``mapping`` is field -> 0-based column index (only the fields it recognised); ``rows`` are at
    most ``PREVIEW_ROWS`` data rows whose cells are masked (``j***@example.com``, ``***12``).
    """

    encoding: str
    delimiter: str
    delimiter_name: str
    has_header: bool
    columns: tuple[str, ...]
    mapping: Mapping[str, int]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True, slots=True)
class RowError:
    """One row left out of an import: its line number in the file and why (values masked)."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What ``import_list`` did. ``errors`` lists the first ``MAX_REPORTED_ERRORS`` invalid rows; ``invalid`` counts all."""

    rows: int
    imported: int
    invalid: int
    errors: tuple[RowError, ...]
    replaced: int
    google_hashes: int

    def summary(self) -> str:
        """One line for admin messages and commands."""
        text = f"{self.imported:,} of {self.rows:,} rows imported, {self.invalid:,} invalid"
        return text + (f", {self.replaced:,} previous entries replaced" if self.replaced else "")


def normalize_google_email(value: str) -> str | None:
    """Google's form of an email address; mirrors the Google rule of privacy/hashing.py.

    ``normalize_email``, then for gmail.com and googlemail.com only: the dots and a ``+suffix`` in
    the local part are removed (``John.Smith+shop@gmail.com`` -> ``johnsmith@gmail.com``). Other
    domains stay as ``normalize_email`` returns them. None when it is not an address.
    """
    email = normalize_email(value)
    if email is None:
        return None
    local, _, domain = email.rpartition("@")
    if domain not in GMAIL_DOMAINS:
        return email
    local = local.split("+", 1)[0].replace(".", "")
    return f"{local}@{domain}" if local else None


def _rows_of(fmt: CsvFormat, text: str) -> list[list[str]]:
    """The sample's non-blank CSV rows; a broken record is left out here (the import reports it by line)."""
    reader = csv.reader(physical_lines(text), fmt.dialect)
    rows: list[list[str]] = []
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return rows
        except csv.Error:
            continue
        if any(cell.strip() for cell in row):
            rows.append(row)


def sniff(fileobj: IO[bytes], *, header: bool | None = None) -> Preview:
    """Detect the format of a customer-list CSV and preview it, masked; the file's position is restored.

    ``fileobj`` is a binary file (an upload, ``open(path, "rb")``, ``io.BytesIO``); only its first
    64 KiB are read. Detects the encoding (UTF-8 with or without BOM, else Windows-1252), the
    delimiter (``,`` ``;`` tab ``|``, csv.Sniffer) and whether the first row is a header (``header``
    overrides). Raises ``ListImportError`` with a clear message for an empty file, binary data, an
    image, a workbook, or a first line over 64 KiB.
    """
    start = fileobj.tell() if fileobj.seekable() else None
    try:
        sample = read_sample(fileobj)
    finally:
        if start is not None:
            fileobj.seek(start)
    fmt, text = detect(sample)
    rows = _rows_of(fmt, text)
    if not rows:
        raise ListImportError("the file has no rows")
    has_header = is_header_row(rows[0]) if header is None else header
    width = max(len(r) for r in rows)
    if has_header:
        # A header is shown as it is, unless a cell looks like data (a header forced on a data row).
        columns = tuple((mask(cell) if looks_like_data(cell) else cell.strip()) or f"column {i + 1}"
                        for i, cell in enumerate(rows[0]))
        columns += tuple(f"column {i + 1}" for i in range(len(columns), width))
        data = rows[1:]
    else:
        columns, data = tuple(f"column {i + 1}" for i in range(width)), rows
    mapping = suggest_mapping(columns) if has_header else mapping_from_data(data, width)
    country = mapping.get("country")
    shown = tuple(
        tuple(_show(cell, is_country=index == country) for index, cell in enumerate(row)) for row in data[:PREVIEW_ROWS])
    return Preview(encoding=fmt.encoding, delimiter=fmt.delimiter, delimiter_name=DELIMITER_NAMES[fmt.delimiter],
                   has_header=has_header, columns=columns, mapping=mapping, rows=shown)


def _show(cell: str, *, is_country: bool) -> str:
    if is_country:
        code = normalize_country(cell)
        if code:
            return code.upper()  # a country is not personal on its own
    return mask(cell)


def _columns(mapping: Mapping[str, int | str], header: tuple[str, ...] | None) -> dict[str, int]:
    """Validate ``mapping`` (field -> 0-based index or header name) into field -> index."""
    out: dict[str, int] = {}
    for field, column in mapping.items():
        if field not in FIELDS:
            raise ListImportError(f"unknown field {field!r} in the mapping; use {', '.join(FIELDS)}")
        if isinstance(column, bool) or not isinstance(column, (int, str)):
            raise ListImportError(f"mapping[{field!r}] = {column!r} is neither a column number nor a header name")
        if isinstance(column, str):
            names = [c.strip().lower() for c in header or ()]
            if column.strip().lower() not in names:
                raise ListImportError(f"mapping[{field!r}] names column {column!r}, which is not in the header")
            column = names.index(column.strip().lower())
        if column < 0:
            raise ListImportError(f"mapping[{field!r}] = {column} is not a column number (0 is the first)")
        if column in out.values():
            raise ListImportError(f"column {column + 1} is mapped to more than one field")
        out[field] = column
    if not any(f in out for f in IDENTIFIERS):
        raise ListImportError("map an email or a phone column: a row needs one to be matched")
    return out


def _default_country(value: str | None) -> str | None:
    text = value if value is not None else str(app_settings.COUNTRY or "")
    if not text:
        return None
    code = normalize_country(text)
    if code is None:
        raise ListImportError(f"default country {text!r} is not an ISO 3166 country code")
    return code


def row_hashes(raw: Mapping[str, str], *, default_country: str | None = None) -> tuple[dict[str, str], str]:
    """(hashes, "") for one row's raw values, or ({}, why) when the row cannot be imported.

    The row's country, else ``default_country``, completes phone numbers typed without a country code.
    ``em_google`` is stored when Google's form of the address hashes differently from ``em``.
    """
    email, phone = raw.get("email", "").strip(), raw.get("phone", "").strip()
    if not email and not phone:
        return {}, "no email and no phone"
    if email and not is_hashed(email):
        normalised = normalize_email(email)
        if len(email) > MAX_EMAIL_CHARS or normalised is None or not _EMAIL_RE.match(normalised):
            return {}, f"{mask(email)!r} is not an email address"
    country = normalize_country(raw.get("country", "")) or default_country or ""
    if phone and not is_hashed(phone):
        digits = normalize_phone(phone, country=country or None)
        if digits is None or len(digits) > MAX_PHONE_DIGITS or re.search(r"[^\d\s()+\-./]", phone):
            return {}, f"phone {mask(phone)!r} is not a phone number"
    hashes = hash_user_data({**raw, "email": email, "phone": phone, "country": country})
    if "em_google" not in hashes and email.lower().rstrip(". ").endswith(tuple(GMAIL_DOMAINS)):
        google = normalize_google_email(email)
        if google and sha256_hex(google) != hashes.get("em"):
            hashes["em_google"] = sha256_hex(google)
    return hashes, ""


def _records(reader: Iterator[list[str]], lines: Lines, errors: Callable[[int, str], None]) -> Iterator[tuple[int, list[str]]]:
    """(first line number, cells) per CSV record; unparseable records go to ``errors``."""
    while True:
        lines.first = 0
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            errors(lines.first or lines.number, f"not a CSV row ({exc})")
            continue
        if cells and any(c.strip() for c in cells):
            yield lines.first or lines.number, cells


def _insert(audience: Audience, batch: list[tuple[int, dict[str, str]]]) -> None:
    """One multi-row INSERT of ``CustomerListEntry`` rows (line, hashes).

    ``bulk_create`` builds a model instance and prepares every value through the ORM: it took 40 %
    of an import (measured, 20,000 rows); the same rows through ``executemany`` with the fields' own
    database preparation cost a fifth of that.
    """
    if not batch:
        return
    meta = CustomerListEntry._meta
    prepare = meta.get_field("hashes").get_db_prep_save
    created = meta.get_field("created_at").get_db_prep_save(timezone.now(), connection)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {connection.ops.quote_name(meta.db_table)} (audience_id, line, hashes, created_at) "
            f"VALUES (%s, %s, %s, %s)",
            [(audience.pk, line, prepare(hashes, connection), created) for line, hashes in batch])


def import_list(audience: Audience, fileobj: IO[bytes], *, mapping: Mapping[str, int | str],
                default_country: str | None = None, append: bool = False, header: bool | None = None,
                progress: Progress | None = None) -> ImportResult:
    """Import a customer-list CSV into ``audience`` (kind ``customer_list``); returns the ``ImportResult``.

    Streams ``fileobj`` (binary, read from its current position) in one pass with flat memory.
    ``mapping`` is field -> 0-based column index or header name, fields from ``FIELDS`` (as
    ``sniff`` suggests); it must map an email or a phone column. ``default_country`` (ISO code;
    default ``SOCIALSHOP['COUNTRY']``) completes phones typed without a country code where the row
    has no country. Only SHA-256 hashes are stored. Invalid rows (no identifier, a bad email, an
    unparseable phone, a line over 1 MB, a broken CSV record) are reported by line number and left
    out. The list is replaced (old entries deleted in the same transaction) unless ``append``.
    All or nothing: on ``ListImportError`` or any other exception the previous list is intact.
    One import per audience at a time: ``JobLocked`` while another one runs.
    The audience's membership follows at its next build (``build_audience``).
    """
    if audience.kind != RuleKind.CUSTOMER_LIST:
        raise ListImportError(f"audience {audience.slug!r} is a {audience.get_kind_display()!r} audience; "
                              f"lists are imported into customer-list audiences")
    country = _default_country(default_country)
    sample = read_sample(fileobj)
    fmt, _ = detect(sample)
    say = progress or (lambda line: None)
    errors: list[RowError] = []
    invalid = 0

    def error(line: int, message: str) -> None:
        nonlocal invalid
        invalid += 1
        if len(errors) < MAX_REPORTED_ERRORS:
            errors.append(RowError(line, message))

    lines = Lines(sample, fileobj, encoding=fmt.encoding, on_skip=error)
    records = _records(csv.reader(lines, fmt.dialect), lines, error)
    first = next(records, None)
    if first is None:
        raise ListImportError("the file has no readable rows" + (f" ({errors[0]})" if errors else ""))
    has_header = is_header_row(first[1]) if header is None else header
    columns = _columns(mapping, tuple(first[1]) if has_header else None)
    if not has_header:
        records = itertools.chain([first], records)
    rows = imported = google = 0
    with single_flight(f"socialshop.import_list:{audience.pk}"), writing():
        replaced = 0 if append else CustomerListEntry.objects.filter(audience=audience).delete()[0]
        batch: list[tuple[int, dict[str, str]]] = []
        for line, cells in records:
            rows += 1
            raw = {field: (cells[i] if i < len(cells) else "") for field, i in columns.items()}
            hashes, why = row_hashes(raw, default_country=country)
            if why:
                error(line, why)
            else:
                imported += 1
                google += "em_google" in hashes
                batch.append((line, hashes))
                if len(batch) >= BATCH_SIZE:
                    _insert(audience, batch)
                    batch = []
            if rows % PROGRESS_EVERY == 0:
                say(f"{audience.slug}: {rows:,} rows read, {imported:,} imported, {invalid:,} invalid")
        _insert(audience, batch)
        if not imported:
            # Nothing usable (a header only, or every row invalid): keep the previous list.
            example = f" ({errors[0]})" if errors else ""
            raise ListImportError(f"no row could be imported: {rows} data rows, {invalid} invalid{example}")
    result = ImportResult(rows=rows, imported=imported, invalid=invalid, errors=tuple(errors), replaced=replaced,
                          google_hashes=google)
    logger.info("audience %s: customer list imported: %s", audience.slug, result.summary())
    say(f"{audience.slug}: {result.summary()}")
    return result

