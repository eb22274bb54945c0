"""Which column of a customer list holds what: header names in several languages and spellings
(``HEADER_ALIASES``), whether the first row is a header, and a suggested mapping from a header or
from the data. Used by audiences/lists.py.
"""
from __future__ import annotations

import unicodedata

from socialshop.platforms.hashing import is_hashed

PREVIEW_ROWS = 10

# Header names people use for each field, compared without case, accents, spaces or punctuation
# ("E-Mail", "Given name", "Código postal"), in English, German, French, Spanish, Italian, Dutch
# and the Nordic languages.
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "email": ("email", "emails", "mail", "emailaddress", "mailaddress", "emailadresse", "emailadres", "courriel",
              "adressemail", "adresseemail", "adresseelectronique", "correo", "correoelectronico", "postaelettronica",
              "epost", "epostadress", "sahkoposti"),
    "phone": ("phone", "phonenumber", "phoneno", "telephone", "telephonenumber", "tel", "telno", "telefon",
              "telefonnummer", "telefono", "telefone", "telefoon", "telefoonnummer", "mobile", "mobilephone",
              "mobilenumber", "mobil", "mobilnummer", "mobiltelefon", "handy", "handynummer", "cell", "cellphone",
              "cellular", "cellulare", "portable", "movil", "celular", "numerodetelephone", "numerodetelefono"),
    "first_name": ("firstname", "first", "givenname", "forename", "fname", "vorname", "prenom", "nombre", "nome",
                   "voornaam", "fornavn", "fornamn", "etunimi"),
    "last_name": ("lastname", "last", "surname", "familyname", "lname", "nachname", "familienname", "nom",
                  "nomdefamille", "apellido", "apellidos", "cognome", "achternaam", "efternamn", "etternavn",
                  "sobrenome", "sukunimi"),
    "country": ("country", "countrycode", "countryregion", "land", "pays", "pais", "paese", "nazione", "maa"),
    "postcode": ("zip", "zipcode", "postcode", "postalcode", "postleitzahl", "plz", "codepostal", "cp",
                 "codigopostal", "cap", "postnummer", "postinumero"),
}
_ALIAS_FIELD: dict[str, str] = {alias: field for field, aliases in HEADER_ALIASES.items() for alias in aliases}
# A header ending in one of these names the field too ("Billing e-mail", "Customer phone").
_SUFFIXES: tuple[tuple[str, str], ...] = tuple(
    (alias, field) for alias, field in _ALIAS_FIELD.items() if len(alias) >= 5)

def header_field(name: str) -> str | None:
    """The field a header cell names (``"E-Mail"`` -> ``"email"``, ``"Given name"`` -> ``"first_name"``), or None."""
    key = "".join(ch for ch in unicodedata.normalize("NFKD", name.lower()) if ch.isascii() and ch.isalnum())
    if key in _ALIAS_FIELD:
        return _ALIAS_FIELD[key]
    for alias, field in _SUFFIXES:
        if key.endswith(alias):
            return field
    return None


def suggest_mapping(columns: tuple[str, ...]) -> dict[str, int]:
    """field -> column index from the header names; the first column naming a field wins."""
    mapping: dict[str, int] = {}
    for index, name in enumerate(columns):
        field = header_field(name)
        if field and field not in mapping:
            mapping[field] = index
    return mapping


def looks_like_data(cell: str) -> bool:
    """Whether a cell looks like a value (an address, a number, a hash) rather than a column name."""
    return "@" in cell or sum(ch.isdigit() for ch in cell) >= 5 or is_hashed(cell)


def is_header_row(first: list[str]) -> bool:
    """A first row is a header when it names a field, or when none of its cells looks like an email or a number."""
    if any(header_field(cell) for cell in first):
        return True
    return not any(looks_like_data(cell) for cell in first)


def mapping_from_data(data: list[list[str]], width: int) -> dict[str, int]:
    """Without a header: the first column holding addresses is the email, the first holding numbers the phone."""
    mapping: dict[str, int] = {}
    for index in range(width):
        cells = [row[index].strip() for row in data[:PREVIEW_ROWS] if index < len(row) and row[index].strip()]
        if cells and "email" not in mapping and all("@" in c for c in cells):
            mapping["email"] = index
        elif cells and "phone" not in mapping and all(sum(ch.isdigit() for ch in c) >= 7 for c in cells):
            mapping["phone"] = index
    return mapping
