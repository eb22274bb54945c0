"""A small stand-in for ``socialshop.audiences.lists`` (the customer-list import), used ONLY by tests when
the real module is not in this branch yet. Same names and shapes as the real one: ``sniff(fileobj) ->
Preview`` (columns, mapping, rows masked) and ``import_list(audience, fileobj, *, mapping, default_country)
-> ImportResult`` storing hashed ``CustomerListEntry`` rows only."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import IO, Any

from socialshop.audiences.models import Audience, CustomerListEntry
from socialshop.platforms.hashing import hash_user_data

FIELDS = ("email", "phone", "first_name", "last_name", "country", "postcode")


class ListImportError(ValueError):
    pass


@dataclass(frozen=True)
class Preview:
    columns: tuple[str, ...]
    mapping: dict[str, int]
    rows: tuple[tuple[str, ...], ...]
    encoding: str = "utf-8"
    delimiter_name: str = "commas"


@dataclass(frozen=True)
class RowError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass(frozen=True)
class ImportResult:
    rows: int
    imported: int
    invalid: int
    errors: tuple[RowError, ...]
    replaced: int = 0

    def summary(self) -> str:
        return f"{self.imported:,} of {self.rows:,} rows imported, {self.invalid:,} invalid"


def _rows(fileobj: IO[bytes]) -> list[list[str]]:
    text = fileobj.read().decode("utf-8-sig", errors="replace")
    if not text.strip():
        raise ListImportError("the file has no rows")
    return list(csv.reader(io.StringIO(text)))


def sniff(fileobj: IO[bytes]) -> Preview:
    rows = _rows(fileobj)
    header = tuple(rows[0])
    mapping = {f: i for i, name in enumerate(header) for f in FIELDS if name.strip().lower().replace(" ", "_") == f}
    masked = tuple(tuple((c[:1] + "***") if c else "" for c in row) for row in rows[1:11])
    return Preview(columns=header, mapping=mapping, rows=masked)


def import_list(audience: Audience, fileobj: IO[bytes], *, mapping: dict[str, Any], default_country: str | None = None,
                progress: Any = None) -> ImportResult:
    if "email" not in mapping and "phone" not in mapping:
        raise ListImportError("map an email or a phone column: a row needs one to be matched")
    rows = _rows(fileobj)[1:]
    entries, errors = [], []
    for line, row in enumerate(rows, start=2):
        raw = {field: row[column] for field, column in mapping.items() if column < len(row)}
        if default_country and not raw.get("country"):
            raw["country"] = default_country
        hashes = hash_user_data(raw)
        if not (hashes.get("em") or hashes.get("ph")):
            errors.append(RowError(line, "no usable email or phone"))
            continue
        entries.append(CustomerListEntry(audience=audience, line=line, hashes=hashes))
    replaced = CustomerListEntry.objects.filter(audience=audience).delete()[0]
    CustomerListEntry.objects.bulk_create(entries)
    return ImportResult(len(rows), len(entries), len(errors), tuple(errors), replaced)


def install(monkeypatch: Any) -> Any:
    """The real ``socialshop.audiences.lists`` when this branch has it, else this stand-in in its place."""
    import sys

    import socialshop.audiences as package

    try:
        from socialshop.audiences import lists
    except ImportError:
        module = sys.modules[__name__]
        monkeypatch.setitem(sys.modules, "socialshop.audiences.lists", module)
        monkeypatch.setattr(package, "lists", module, raising=False)
        return module
    return lists
