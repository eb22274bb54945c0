"""Customer-list import (issue #14): sniffing and the masked preview, normalisation and hashing per
platform rule, invalid rows by line number, replace/append, all-or-nothing, no raw value stored,
flat memory on a large file, and bad files (BOM, delimiters, binary, images, huge lines, random text).
"""
from __future__ import annotations

import gc
import io
import logging
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from django.apps import apps
from hypothesis import HealthCheck, event, given, settings as hypothesis_settings, strategies as st

from socialshop.audiences.builder import build_audience
from socialshop.audiences.columns import header_field
from socialshop.audiences.csvfile import MAX_LINE_BYTES
from socialshop.audiences.lists import (
    ListImportError, import_list, normalize_google_email, sniff,
)
from socialshop.audiences.models import Audience, AudienceMember, BuildStatus, CustomerListEntry, RuleKind
from socialshop.platforms.hashing import HEX64_RE, sha256_hex

pytestmark = pytest.mark.django_db

HEADER = "email,phone,first_name,last_name,country,zip\n"
FULL_MAPPING = {"email": 0, "phone": 1, "first_name": 2, "last_name": 3, "country": 4, "postcode": 5}


@pytest.fixture
def audience() -> Audience:
    return Audience.objects.create(name="VIP list", slug="vip-list", kind=RuleKind.CUSTOMER_LIST)


def csv_bytes(text: str, encoding: str = "utf-8") -> io.BytesIO:
    return io.BytesIO(text.encode(encoding))


def entries(aud: Audience) -> list[CustomerListEntry]:
    return list(CustomerListEntry.objects.filter(audience=aud).order_by("line"))


# --- sniff: format, header, mapping, masked preview ------------------------------------------------

def test_sniff_strips_the_bom_and_reads_the_header(audience: Audience) -> None:
    preview = sniff(csv_bytes("\ufeffEmail,Phone\nann@example.com,+1 650 555 1212\n"))
    assert preview.encoding == "utf-8-sig"
    assert preview.columns == ("Email", "Phone")  # no "\ufeffEmail"
    assert preview.mapping == {"email": 0, "phone": 1}


def test_import_of_a_bom_file_hashes_the_first_column_correctly(audience: Audience) -> None:
    import_list(audience, csv_bytes("\ufeffEmail\nann@example.com\n"), mapping={"email": "Email"})
    assert entries(audience)[0].hashes["em"] == sha256_hex("ann@example.com")


def test_sniff_detects_a_semicolon_delimiter() -> None:
    preview = sniff(csv_bytes("E-Mail;Telefon;Vorname;Nachname;Land;PLZ\nann@example.de;030 1234567;Änne;Weiß;DE;10115\n"))
    assert preview.delimiter == ";" and preview.delimiter_name == "semicolon"
    assert preview.mapping == FULL_MAPPING


def test_import_of_a_semicolon_file_with_commas_inside_fields(audience: Audience) -> None:
    text = "email;first_name;last_name\n\"ann@example.com\";Ann, Jr.;Lee\nbob@example.com;Bob;Ray\n"
    result = import_list(audience, csv_bytes(text), mapping={"email": 0, "first_name": 1, "last_name": 2})
    assert result.imported == 2
    assert entries(audience)[0].hashes["fn"] == sha256_hex("annjr")


def test_sniff_and_import_detect_a_tab_delimiter(audience: Audience) -> None:
    text = "Mail\tMobile\tGiven name\tSurname\nann@example.com\t07700 900123\tAnn\tLee\n"
    preview = sniff(csv_bytes(text))
    assert preview.delimiter == "\t" and preview.delimiter_name == "tab"
    assert preview.mapping == {"email": 0, "phone": 1, "first_name": 2, "last_name": 3}
    import_list(audience, csv_bytes(text), mapping=preview.mapping, default_country="GB")
    assert entries(audience)[0].hashes["ph"] == sha256_hex("447700900123")


@pytest.mark.parametrize(("name", "field"), [
    ("E-mail", "email"), ("e_mail", "email"), ("Mail", "email"), ("Courriel", "email"), ("Correo electrónico", "email"),
    ("Billing Email", "email"), ("Phone number", "phone"), ("Telephone", "phone"), ("Téléphone", "phone"),
    ("Mobile", "phone"), ("Handy", "phone"), ("first_name", "first_name"), ("FirstName", "first_name"),
    ("Given name", "first_name"), ("Prénom", "first_name"), ("Vorname", "first_name"), ("last_name", "last_name"),
    ("Surname", "last_name"), ("Nachname", "last_name"), ("Cognome", "last_name"), ("Country", "country"),
    ("Pays", "country"), ("ZIP", "postcode"), ("Postcode", "postcode"), ("Postal code", "postcode"),
    ("PLZ", "postcode"), ("Código postal", "postcode"), ("Notes", None), ("Name", None),
])
def test_header_names_in_several_languages_and_spellings(name: str, field: str | None) -> None:
    assert header_field(name) == field


def test_sniff_preview_is_masked_and_limited_to_ten_rows() -> None:
    rows = "".join(f"person{n}@example.com,+1 650 555 {1000 + n},Firstname{n},Lastname{n},US,9410{n % 10}\n"
                   for n in range(25))
    preview = sniff(csv_bytes(HEADER + rows))
    assert len(preview.rows) == 10
    assert preview.rows[0] == ("p***@example.com", "***00", "F***", "L***", "US", "***00")
    shown = repr(preview)
    for raw in ("person0@", "Firstname0", "Lastname0", "6505551000", "555 1000"):
        assert raw not in shown


def test_sniff_without_a_header_guesses_email_and_phone_columns() -> None:
    preview = sniff(csv_bytes("ann@example.com,+16505551212\nbob@example.com,+16505551213\n"))
    assert not preview.has_header
    assert preview.columns == ("column 1", "column 2")
    assert preview.mapping == {"email": 0, "phone": 1}
    assert len(preview.rows) == 2


def test_sniff_restores_the_file_position() -> None:
    handle = csv_bytes(HEADER + "ann@example.com,,,,,\n")
    sniff(handle)
    assert handle.tell() == 0


# --- normalisation and hashing ------------------------------------------------------------------

def test_upper_case_and_space_padded_emails_hash_like_clean_ones(audience: Audience) -> None:
    text = "email\n  ANN@EXAMPLE.COM  \n\tBob@Example.Com \n"
    import_list(audience, csv_bytes(text), mapping={"email": 0})
    assert [e.hashes["em"] for e in entries(audience)] == [sha256_hex("ann@example.com"), sha256_hex("bob@example.com")]


def test_plus_addressing_is_kept_for_meta_tiktok_pinterest(audience: Audience) -> None:
    import_list(audience, csv_bytes("email\nann+shop@example.com\n"), mapping={"email": 0})
    hashes = entries(audience)[0].hashes
    assert hashes["em"] == sha256_hex("ann+shop@example.com")
    assert "em_google" not in hashes  # not a Gmail address: Google hashes it the same


def test_gmail_addresses_get_a_google_hash_without_dots_and_plus_suffix(audience: Audience) -> None:
    text = "email\nJohn.Smith+shop@Gmail.com\nj.o.e@googlemail.com\njohn@gmail.com\n"
    result = import_list(audience, csv_bytes(text), mapping={"email": 0})
    first, second, third = entries(audience)
    assert first.hashes["em"] == sha256_hex("john.smith+shop@gmail.com")  # Meta, TikTok, Pinterest
    assert first.hashes["em_google"] == sha256_hex("johnsmith@gmail.com")  # Google
    assert second.hashes["em_google"] == sha256_hex("joe@googlemail.com")
    assert "em_google" not in third.hashes  # the same in both forms: em serves Google too
    assert result.google_hashes == 2


def test_normalize_google_email_only_changes_gmail() -> None:
    assert normalize_google_email(" A.B+c@GMAIL.com ") == "ab@gmail.com"
    assert normalize_google_email("a.b+c@example.com") == "a.b+c@example.com"
    assert normalize_google_email("+tag@gmail.com") is None
    assert normalize_google_email("no-at-sign") is None


def test_phones_with_punctuation_and_without_country_code(audience: Audience) -> None:
    text = ("email,phone,country\n"
            "a@example.com,(650) 555-1212,US\n"      # the row's country
            "b@example.com,030 / 123 45 67,Germany\n"  # a country name, trunk 0
            "c@example.com,650.555.1213,\n"            # no country: the default
            "d@example.com,+44 (0)20 7946 0018,US\n")  # international: the country column does not apply
    import_list(audience, csv_bytes(text), mapping={"email": 0, "phone": 1, "country": 2}, default_country="us")
    phones = [e.hashes["ph"] for e in entries(audience)]
    assert phones == [sha256_hex("16505551212"), sha256_hex("49301234567"), sha256_hex("16505551213"),
                      sha256_hex("442079460018")]
    assert entries(audience)[0].hashes["ph_e164"] == sha256_hex("+16505551212")


def test_default_country_falls_back_to_the_store_country(audience: Audience, settings: Any) -> None:
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "COUNTRY": "FR"}
    import_list(audience, csv_bytes("phone\n06 12 34 56 78\n"), mapping={"phone": 0})
    assert entries(audience)[0].hashes["ph"] == sha256_hex("33612345678")


def test_an_unknown_default_country_is_refused(audience: Audience) -> None:
    with pytest.raises(ListImportError, match="'Narnia' is not an ISO 3166"):
        import_list(audience, csv_bytes("phone\n0612345678\n"), mapping={"phone": 0}, default_country="Narnia")


def test_pre_hashed_values_are_kept_not_hashed_twice(audience: Audience) -> None:
    digest = sha256_hex("ann@example.com")
    import_list(audience, csv_bytes(f"email\n{digest.upper()}\n"), mapping={"email": 0})
    assert entries(audience)[0].hashes == {"em": digest}


# --- invalid rows, replace, append, all or nothing -----------------------------------------------

def test_invalid_rows_are_reported_by_line_number_and_the_rest_imported(audience: Audience) -> None:
    text = (HEADER
            + "ann@example.com,,Ann,Lee,US,94103\n"    # line 2: fine
            + ",,Nobody,Known,US,94103\n"              # line 3: no identifier
            + "not-an-email,,Bob,Ray,US,94103\n"       # line 4: bad email
            + "\n"                                     # line 5: blank, ignored
            + "cy@example.com,call me,Cy,Do,US,1\n"    # line 6: unparseable phone
            + ",+1 650 555 1212,Di,Ek,US,94103\n"      # line 7: fine (phone only)
            + "ed@example,,Ed,Fu,US,94103\n")          # line 8: domain without a dot
    result = import_list(audience, csv_bytes(text), mapping=FULL_MAPPING)
    assert (result.rows, result.imported, result.invalid) == (6, 2, 4)
    assert [(e.line, e.message) for e in result.errors] == [
        (3, "no email and no phone"), (4, "'n***' is not an email address"),
        (6, "phone 'c***' is not a phone number"), (8, "'e***@example' is not an email address")]
    assert [e.line for e in entries(audience)] == [2, 7]
    assert str(result.errors[0]) == "line 3: no email and no phone"


def test_reimport_replaces_the_list(audience: Audience) -> None:
    import_list(audience, csv_bytes("email\nold1@example.com\nold2@example.com\n"), mapping={"email": 0})
    result = import_list(audience, csv_bytes("email\nnew@example.com\n"), mapping={"email": 0})
    assert result.replaced == 2
    assert [e.hashes["em"] for e in entries(audience)] == [sha256_hex("new@example.com")]


def test_append_keeps_the_previous_entries(audience: Audience) -> None:
    import_list(audience, csv_bytes("email\nold@example.com\n"), mapping={"email": 0})
    result = import_list(audience, csv_bytes("email\nnew@example.com\n"), mapping={"email": 0}, append=True)
    assert result.replaced == 0
    assert len(entries(audience)) == 2


class FailingFile(io.RawIOBase):
    """A file that breaks (a dropped upload) after ``fail_at`` bytes."""

    def __init__(self, data: bytes, fail_at: int) -> None:
        self.data, self.fail_at, self.pos = data, fail_at, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.pos >= self.fail_at:
            raise OSError("connection reset while reading the upload")
        chunk = self.data[self.pos:min(self.pos + len(buffer), self.fail_at)]
        buffer[:len(chunk)] = chunk
        self.pos += len(chunk)
        return len(chunk)


def test_a_failed_import_midway_leaves_the_previous_list_intact(audience: Audience) -> None:
    import_list(audience, csv_bytes("email\nkeep1@example.com\nkeep2@example.com\n"), mapping={"email": 0})
    before = [(e.pk, e.hashes) for e in entries(audience)]
    data = ("email\n" + "".join(f"person{n}@example.com\n" for n in range(20_000))).encode()
    broken = io.BufferedReader(FailingFile(data, fail_at=len(data) // 2))
    with pytest.raises(OSError, match="connection reset"):
        import_list(audience, broken, mapping={"email": 0})
    assert [(e.pk, e.hashes) for e in entries(audience)] == before


def test_a_header_only_file_is_a_clear_error_and_keeps_the_list(audience: Audience) -> None:
    import_list(audience, csv_bytes("email\nkeep@example.com\n"), mapping={"email": 0})
    preview = sniff(csv_bytes(HEADER))
    assert preview.has_header and preview.rows == () and preview.mapping == FULL_MAPPING
    with pytest.raises(ListImportError, match="no row could be imported: 0 data rows"):
        import_list(audience, csv_bytes(HEADER), mapping=FULL_MAPPING)
    assert len(entries(audience)) == 1


def test_a_file_where_every_row_is_invalid_keeps_the_list(audience: Audience) -> None:
    import_list(audience, csv_bytes("email\nkeep@example.com\n"), mapping={"email": 0})
    with pytest.raises(ListImportError, match=r"2 invalid \(line 2: 'x\*\*\*' is not an email address\)"):
        import_list(audience, csv_bytes("email\nx\ny\n"), mapping={"email": 0})
    assert len(entries(audience)) == 1


def test_import_refuses_an_audience_of_another_kind() -> None:
    other = Audience.objects.create(name="Visitors", slug="visitors", kind=RuleKind.VISITORS)
    with pytest.raises(ListImportError, match="customer-list audiences"):
        import_list(other, csv_bytes("email\nann@example.com\n"), mapping={"email": 0})


@pytest.mark.parametrize(("mapping", "message"), [
    ({"first_name": 0}, "map an email or a phone column"),
    ({"email": 0, "address": 1}, "unknown field 'address'"),
    ({"email": "E-mail address"}, "not in the header"),
    ({"email": 0, "phone": 0}, "mapped to more than one field"),
    ({"email": -1}, "not a column number"),
    ({"email": True}, "neither a column number nor a header name"),
])
def test_a_wrong_mapping_is_a_clear_error(audience: Audience, mapping: dict[str, Any], message: str) -> None:
    with pytest.raises(ListImportError, match=message):
        import_list(audience, csv_bytes(HEADER + "ann@example.com,,,,,\n"), mapping=mapping)


def test_the_imported_list_becomes_the_audience_at_its_next_build(audience: Audience) -> None:
    import_list(audience, csv_bytes("email\nann@example.com\nbob@example.com\n"), mapping={"email": 0})
    build = build_audience(audience)
    assert build.status == BuildStatus.SUCCEEDED, build.error
    persons = set(AudienceMember.objects.filter(audience=audience, left_at__isnull=True).values_list("person", flat=True))
    assert persons == {f"l:{e.pk}" for e in entries(audience)}


# --- no raw value anywhere ------------------------------------------------------------------------

RAW_VALUES = ("Ann.Private@Example.com", "ann.private@example.com", "(415) 555-0199", "4155550199",
              "Annabelle", "Privateer", "94110")


def test_no_raw_email_or_phone_is_stored_in_any_socialshop_table(audience: Audience, caplog: Any) -> None:
    caplog.set_level(logging.DEBUG)
    text = HEADER + "Ann.Private@Example.com,(415) 555-0199,Annabelle,Privateer,US,94110\nbroken,,,,,\n"
    result = import_list(audience, csv_bytes(text), mapping=FULL_MAPPING)
    assert result.imported == 1
    build_audience(audience)
    dumped = []
    for model in apps.get_app_config("socialshop").get_models():
        dumped += [repr(row) for row in model.objects.values_list()]
    stored = "\n".join(dumped).lower()
    assert sha256_hex("ann.private@example.com") in stored  # the dump does see the entry
    for raw in RAW_VALUES:
        assert raw.lower() not in stored, raw
        assert raw.lower() not in caplog.text.lower(), raw
        assert raw.lower() not in repr(result).lower(), raw


# --- bad files ------------------------------------------------------------------------------------

def test_an_empty_file_is_a_clear_error(audience: Audience) -> None:
    for data in (b"", b"  \n\r\n"):
        with pytest.raises(ListImportError, match="the file is empty"):
            sniff(io.BytesIO(data))
        with pytest.raises(ListImportError, match="the file is empty"):
            import_list(audience, io.BytesIO(data), mapping={"email": 0})


def test_a_binary_file_is_a_clear_error(audience: Audience) -> None:
    data = bytes(range(256)) * 40
    with pytest.raises(ListImportError, match="binary data"):
        sniff(io.BytesIO(data))
    with pytest.raises(ListImportError, match="binary data"):
        import_list(audience, io.BytesIO(data), mapping={"email": 0})


def test_an_image_is_a_clear_error(audience: Audience) -> None:
    from PIL import Image

    for fmt, what in (("PNG", "a PNG image"), ("JPEG", "a JPEG image"), ("GIF", "a GIF image")):
        buffer = io.BytesIO()
        Image.new("RGB", (8, 8), "red").save(buffer, fmt)
        with pytest.raises(ListImportError, match=f"the file is {what}, not a CSV"):
            sniff(io.BytesIO(buffer.getvalue()))
        with pytest.raises(ListImportError, match=what):
            import_list(audience, io.BytesIO(buffer.getvalue()), mapping={"email": 0})


def test_an_excel_workbook_and_utf16_text_get_a_hint(audience: Audience) -> None:
    with pytest.raises(ListImportError, match="xlsx workbook"):
        sniff(io.BytesIO(b"PK\x03\x04" + b"\x00" * 100))
    with pytest.raises(ListImportError, match="UTF-16 text; save it as CSV UTF-8"):
        sniff(io.BytesIO("email\nann@example.com\n".encode("utf-16")))


def test_a_windows_1252_file_is_read(audience: Audience) -> None:
    text = "email;first_name\nrene@example.fr;René\n"
    assert sniff(csv_bytes(text, "cp1252")).encoding == "cp1252"
    import_list(audience, csv_bytes(text, "cp1252"), mapping={"email": 0, "first_name": 1})
    assert entries(audience)[0].hashes["fn"] == sha256_hex("rené")


def test_a_huge_single_line_is_a_per_line_error(audience: Audience) -> None:
    huge = "x" * (MAX_LINE_BYTES + 10)
    data = f"email,first_name\nann@example.com,Ann\n{huge},{huge}\nbob@example.com,Bob\n".encode()
    result = import_list(audience, io.BytesIO(data), mapping={"email": 0, "first_name": 1})
    assert result.imported == 2
    assert [(e.line, e.message) for e in result.errors] == [(3, "longer than 1 MB; skipped")]
    assert [e.line for e in entries(audience)] == [2, 4]


def test_a_long_field_under_the_line_cap_is_a_per_line_error(audience: Audience) -> None:
    data = f"email,notes\nann@example.com,{'y' * 200_000}\nbob@example.com,ok\n".encode()
    result = import_list(audience, io.BytesIO(data), mapping={"email": 0})
    assert result.imported == 1
    assert result.errors[0].line == 2 and "not a CSV row" in result.errors[0].message


def test_a_huge_first_line_is_a_clear_error(audience: Audience) -> None:
    data = b"e" * (MAX_LINE_BYTES + 10) + b"\nann@example.com\n"
    with pytest.raises(ListImportError, match="line 1 is longer than 64 KiB"):
        sniff(io.BytesIO(data))


def test_an_undecodable_line_is_a_per_line_error(audience: Audience) -> None:
    # UTF-8 in the first 64 KiB (so the file is read as UTF-8), then a line in another encoding.
    rows = "".join(f"p{n}@example.com,P\n" for n in range(5_000))
    data = f"email,first_name\n{rows}".encode() + b"bob@example.com,\xff\xfe\n" + b"cy@example.com,Cy\n"
    result = import_list(audience, io.BytesIO(data), mapping={"email": 0, "first_name": 1})
    assert result.imported == 5_001
    assert [(e.line, e.message) for e in result.errors] == [(5_002, "not utf-8 text like the rest of the file; skipped")]


# --- large files: streamed, memory flat -------------------------------------------------------------

class GeneratedCsv(io.RawIOBase):
    """A CSV of ``rows`` customers made on the fly as it is read: the whole file never exists.

    ``produced`` counts the bytes handed out so far, ``largest_read`` the largest single read asked for.
    """

    def __init__(self, rows: int) -> None:
        self._lines = self._make(rows)
        self._pending = b""
        self.produced = 0
        self.largest_read = 0

    @staticmethod
    def _make(rows: int) -> Iterator[bytes]:
        yield HEADER.encode()
        for n in range(rows):
            yield f"Person.{n}@Example.com,+1 (650) 555-{n % 10000:04d},First{n},Last{n},US,{94000 + n % 999}\n".encode()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        self.largest_read = max(self.largest_read, len(buffer))
        while len(self._pending) < len(buffer):
            line = next(self._lines, None)
            if line is None:
                break
            self._pending += line
        chunk, self._pending = self._pending[:len(buffer)], self._pending[len(buffer):]
        buffer[:len(chunk)] = chunk
        self.produced += len(chunk)
        return len(chunk)


def test_import_streams_a_large_file_with_flat_memory(audience: Audience) -> None:
    rows, line_bytes = 30_000, 80  # each generated line is 70-80 bytes
    source = GeneratedCsv(rows)
    seen: list[tuple[int, int, int, int]] = []  # (rows read, bytes read from the file, rows stored, memory blocks)

    def progress(line: str) -> None:
        if "rows read" in line:
            done = int(line.split(": ")[1].split(" rows")[0].replace(",", ""))
            gc.collect()
            seen.append((done, source.produced, CustomerListEntry.objects.filter(audience=audience).count(),
                         sys.getallocatedblocks()))

    result = import_list(audience, io.BufferedReader(source), mapping=FULL_MAPPING, progress=progress)
    assert result.imported == rows and [s[0] for s in seen] == [10_000, 20_000, 30_000]
    for done, produced, stored, _ in seen:
        assert produced <= done * line_bytes + 128 * 1024  # read as it goes, never the whole file ahead
        assert stored >= done - 2_000  # written in batches as it goes, not at the end
    # The 20,000 rows between the first and the last look leave nothing behind: each row's hashes alone
    # are about ten memory blocks, so a list kept per row would add some 200,000.
    assert seen[-1][3] - seen[0][3] < 20_000, seen
    assert source.largest_read <= 1024 * 1024


def test_the_error_list_is_capped_but_every_invalid_row_counted(audience: Audience) -> None:
    text = "email\n" + "broken\n" * 1_500 + "ann@example.com\n"
    result = import_list(audience, csv_bytes(text), mapping={"email": 0})
    assert (result.imported, result.invalid, len(result.errors)) == (1, 1_500, 1_000)
    assert result.errors[-1].line == 1_001


# --- property-based: random input never escapes as another exception ---------------------------------

FUZZ = hypothesis_settings(max_examples=120, deadline=None, database=None,
                           suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
CSV_CHARS = st.one_of(st.sampled_from([",", ";", "\t", "\n", "\r\n", '"', "@", ".", "+", "\ufeff", "\x00", "é", " "]),
                      st.characters(codec="utf-8"))
random_text = st.lists(CSV_CHARS, max_size=300).map("".join)
# CSV-shaped text: rows of random cells, real-looking emails and phones, under a random delimiter.
cell = st.one_of(st.lists(CSV_CHARS, max_size=12).map("".join), st.emails(),
                 st.from_regex(r"\+?[0-9 ()./-]{5,18}", fullmatch=True), st.sampled_from(["US", "Germany", "", "email"]))
csv_shaped = st.builds(
    lambda bom, delimiter, rows: (bom + "\n".join(delimiter.join(row) for row in rows)).encode("utf-8", "surrogatepass"),
    st.sampled_from(["", "\ufeff"]), st.sampled_from([",", ";", "\t", "|"]),
    st.lists(st.lists(cell, min_size=1, max_size=6), min_size=1, max_size=8))
random_bytes = st.one_of(csv_shaped, random_text.map(lambda t: t.encode("utf-8", "surrogatepass")), st.binary(max_size=400),
                         st.builds(lambda a, b: a + b, st.sampled_from([b"\xef\xbb\xbf", b"email\n", b"\x89PNG"]),
                                   st.binary(max_size=200)))


STORED_KEYS = {"em", "em_google", "ph", "ph_e164", "fn", "ln", "zp", "country"}


def _only_hashes_stored() -> None:
    for hashes in CustomerListEntry.objects.values_list("hashes", flat=True):
        assert hashes and set(hashes) <= STORED_KEYS and all(HEX64_RE.match(v) for v in hashes.values()), hashes


@FUZZ
@given(data=random_bytes)
def test_sniff_random_input_raises_only_list_import_error(data: bytes) -> None:
    try:
        preview = sniff(io.BytesIO(data))
    except ListImportError as exc:
        assert str(exc)
    else:
        assert len(preview.rows) <= 10 and all(0 <= i < len(preview.columns) for i in preview.mapping.values())


@FUZZ
@given(data=random_bytes, mapping=st.sampled_from([{"email": 0}, {"phone": 1, "email": 0}, FULL_MAPPING, {"phone": 2}]))
def test_import_random_input_raises_only_list_import_error_and_stores_only_hashes(
        audience: Audience, data: bytes, mapping: dict[str, int]) -> None:
    try:
        result = import_list(audience, io.BytesIO(data), mapping=mapping, default_country="us")
    except ListImportError as exc:
        assert str(exc)
        event("refused")
    else:
        event("imported")
        assert result.imported + result.invalid >= result.rows
        assert all(e.line >= 1 for e in result.errors)
    _only_hashes_stored()


def test_a_broken_record_in_the_first_lines_is_a_per_line_error(audience: Audience) -> None:
    # A stray CR inside an unquoted field breaks that record only; the header is still found.
    data = b"email,first_name\nann@example.com,A\rnn\nbob@example.com,Bob\n"
    preview = sniff(io.BytesIO(data))
    assert preview.mapping == {"email": 0, "first_name": 1} and len(preview.rows) == 1
    result = import_list(audience, io.BytesIO(data), mapping=preview.mapping)
    assert result.imported == 1 and result.errors[0].line == 2 and "not a CSV row" in result.errors[0].message


def test_a_header_forced_on_a_data_row_is_shown_masked() -> None:
    preview = sniff(csv_bytes("ann@example.com,+16505551212\nbob@example.com,+16505551213\n"), header=True)
    assert preview.columns == ("a***@example.com", "***12")


def test_one_stray_line_does_not_turn_a_utf8_file_into_windows_1252(audience: Audience) -> None:
    rows = "".join(f"p{n}@example.com,Zoë\n" for n in range(5))
    data = f"email,first_name\n{rows}".encode() + "q@example.com,Zoë\n".encode("cp1252")
    assert sniff(io.BytesIO(data)).encoding == "utf-8"
    result = import_list(audience, io.BytesIO(data), mapping={"email": 0, "first_name": 1})
    assert result.imported == 5 and [e.line for e in result.errors] == [7]
    assert {e.hashes["fn"] for e in entries(audience)} == {sha256_hex("zoë")}


def test_a_second_import_into_the_same_audience_waits_its_turn(audience: Audience) -> None:
    from socialshop.core.jobs import single_flight
    from socialshop.exceptions import JobLocked

    import_list(audience, csv_bytes("email\nkeep@example.com\n"), mapping={"email": 0})
    with single_flight(f"socialshop.import_list:{audience.pk}"):
        with pytest.raises(JobLocked):
            import_list(audience, csv_bytes("email\nnew@example.com\n"), mapping={"email": 0})
    assert [e.hashes["em"] for e in entries(audience)] == [sha256_hex("keep@example.com")]
