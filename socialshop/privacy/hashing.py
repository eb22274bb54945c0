"""Normalise and SHA-256 hash customer identifiers once, for every platform (reference/platforms.md D-F).

``hash_user_data`` is what tracking stores in ``Event.user_data``; platform modules only map these
storage keys (em, em_google, ph, ph_e164, fn, ...) to their API fields. Which e-mail rule a platform
follows is the table ``EMAIL_RULES`` (audiences reuse it). Decisions: docs/platforms.md, "Hashing".
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Mapping
from datetime import date

HEX64_RE = re.compile(r"^[0-9a-f]{64}$")

# Country calling codes for turning a national phone number into one with its country code.
# Data, not logic: add a row for a country you sell in. (E.164 assignments, ITU-T.)
CALLING_CODES: dict[str, str] = {
    "us": "1", "ca": "1", "gb": "44", "ie": "353", "fr": "33", "de": "49", "at": "43", "ch": "41",
    "it": "39", "es": "34", "pt": "351", "nl": "31", "be": "32", "lu": "352", "dk": "45", "se": "46",
    "no": "47", "fi": "358", "pl": "48", "cz": "420", "gr": "30", "au": "61", "nz": "64", "in": "91",
    "jp": "81", "kr": "82", "cn": "86", "br": "55", "mx": "52", "ar": "54", "za": "27", "ae": "971",
    "sg": "65", "il": "972", "tr": "90",
}

# Common country names and 3-letter codes people type, mapped to ISO 3166-1 alpha-2.
COUNTRY_ALIASES: dict[str, str] = {
    "usa": "us", "unitedstates": "us", "unitedstatesofamerica": "us", "uk": "gb", "unitedkingdom": "gb",
    "greatbritain": "gb", "gbr": "gb", "deu": "de", "germany": "de", "deutschland": "de", "fra": "fr",
    "france": "fr", "can": "ca", "canada": "ca", "esp": "es", "spain": "es", "ita": "it", "italy": "it",
    "nld": "nl", "netherlands": "nl", "aus": "au", "australia": "au",
}

# US state names to their 2-letter codes (Meta: st is the 2-letter ANSI code, lowercase).
US_STATES: dict[str, str] = {
    "alabama": "al", "alaska": "ak", "arizona": "az", "arkansas": "ar", "california": "ca", "colorado": "co",
    "connecticut": "ct", "delaware": "de", "districtofcolumbia": "dc", "florida": "fl", "georgia": "ga",
    "hawaii": "hi", "idaho": "id", "illinois": "il", "indiana": "in", "iowa": "ia", "kansas": "ks",
    "kentucky": "ky", "louisiana": "la", "maine": "me", "maryland": "md", "massachusetts": "ma",
    "michigan": "mi", "minnesota": "mn", "mississippi": "ms", "missouri": "mo", "montana": "mt",
    "nebraska": "ne", "nevada": "nv", "newhampshire": "nh", "newjersey": "nj", "newmexico": "nm",
    "newyork": "ny", "northcarolina": "nc", "northdakota": "nd", "ohio": "oh", "oklahoma": "ok",
    "oregon": "or", "pennsylvania": "pa", "rhodeisland": "ri", "southcarolina": "sc", "southdakota": "sd",
    "tennessee": "tn", "texas": "tx", "utah": "ut", "vermont": "vt", "virginia": "va", "washington": "wa",
    "westvirginia": "wv", "wisconsin": "wi", "wyoming": "wy",
}

# Google only: gmail.com and googlemail.com ignore dots and a "+suffix" in the local part
# (reference/platforms.md F, Customer Match "Normalise").
GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})

# A phone extension typed after the number: "ext. 123", "extension 123", "x123", "#123" (Meta: the
# number only; an extension is no part of the E.164 number on any platform).
_PHONE_EXTENSION = re.compile(r"\s*[,;]?\s*(?:ext(?:ension)?\.?|x|#)\s*[:=]?\s*\d{1,7}\s*$", re.IGNORECASE)

MONTHS: dict[str, int] = {
    name: number for number, names in enumerate((
        ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",), ("jun", "june"),
        ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"), ("oct", "october"),
        ("nov", "november"), ("dec", "december"),
    ), start=1) for name in names
}

GENDERS: dict[str, str] = {"f": "f", "female": "f", "woman": "f", "m": "m", "male": "m", "man": "m"}


def sha256_hex(value: str) -> str:
    """Lowercase hex SHA-256 of the UTF-8 bytes of ``value``."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def is_hashed(value: str) -> bool:
    """True for a value that already is a SHA-256 hex digest (hash exactly once: Meta SDK rule)."""
    return bool(HEX64_RE.match(value.strip().lower()))


def _letters(value: str) -> str:
    # NFC first so "é" typed as e + combining accent hashes like the precomposed "é".
    text = unicodedata.normalize("NFC", value).strip().lower()
    kept = "".join(ch for ch in text if unicodedata.category(ch).startswith(("L", "M")))
    # NFC again: dropping a character can leave accents out of canonical order or beside a letter they
    # compose with ("e-\u0301" -> "é"), and the result must normalise to itself (hypothesis found it).
    return unicodedata.normalize("NFC", kept)


def normalize_email(value: str) -> str | None:
    """Trim, drop inner whitespace, lowercase. Plus-addressing and Gmail dots are kept as typed.

    Meta, Pinterest and TikTok document trim + lowercase only; changing the local part would
    hash an address the person may never have used on the platform. None when it has no '@'.
    """
    email = re.sub(r"\s+", "", unicodedata.normalize("NFC", value)).lower()
    if email.startswith("mailto:"):
        email = email[len("mailto:"):]
    email = email.strip(".")
    local, at, domain = email.rpartition("@")
    if not at or not local or "." not in domain or "@" in local:
        return None
    return email


def normalize_google_email(value: str) -> str | None:
    """``normalize_email``, then for gmail.com/googlemail.com only: no dots and no ``+suffix`` before '@'.

    Google's rule for GA4 user_data and Customer Match (``John.Smith+shop@gmail.com`` ->
    ``johnsmith@gmail.com``); other domains are left as ``normalize_email`` returns them.
    """
    email = normalize_email(value)
    if email is None:
        return None
    local, _, domain = email.rpartition("@")
    if domain not in GMAIL_DOMAINS:
        return email
    local = local.split("+", 1)[0].replace(".", "")
    return f"{local}@{domain}" if local else None


# Which e-mail normaliser each platform follows, and the ``hash_user_data`` key its hash is stored
# under. One row per platform in platforms.REGISTRY (tests check it); audiences reuse it.
EMAIL_RULES: dict[str, tuple[str, Callable[[str], str | None]]] = {
    "meta": ("em", normalize_email),          # Meta: trim + lowercase, no Gmail dot-stripping (reference D)
    "pinterest": ("em", normalize_email),     # Pinterest: lowercase (reference E)
    "tiktok": ("em", normalize_email),        # TikTok: trim + lowercase, no dot or +tag stripping (reference F)
    "google": ("em_google", normalize_google_email),  # Google: gmail dots and +suffix removed (reference F)
}


def normalize_email_for(platform: str, value: str) -> str | None:
    """``value`` normalised by ``platform``'s e-mail rule (``EMAIL_RULES``); KeyError for an unknown slug."""
    return EMAIL_RULES[platform][1](value)


def email_hash_for(platform: str, user_data: Mapping[str, str]) -> str | None:
    """The stored e-mail hash ``platform`` must receive from ``hash_user_data`` output.

    ``em_google`` is stored only where Google's form differs (a gmail address with dots or a
    +suffix); otherwise, and for a value that arrived already hashed, ``em`` is the same address.
    """
    key = EMAIL_RULES[platform][0]
    return user_data.get(key) or user_data.get("em") or None


def normalize_phone(value: str, *, country: str | None = None) -> str | None:
    """Digits with the country code and no '+' (Meta/Pinterest form), e.g. ``16505551212``.

    '+' or a leading '00' mark an international number. Otherwise, when ``country`` is known,
    a national trunk '0' is dropped and the calling code is prefixed. An extension (``ext. 123``,
    ``x123``, ``#123``, ``extension 123``) is dropped first. None under 7 digits.
    """
    # "+44 (0)20 ..." : the bracketed trunk zero is dropped when dialling internationally.
    text = _PHONE_EXTENSION.sub("", value.strip()).replace("(0)", "")
    international = text.startswith("+") or re.sub(r"\D", "", text).startswith("00")
    digits = re.sub(r"\D", "", text)
    if international:
        digits = digits.lstrip("0")
    else:
        code = CALLING_CODES.get(normalize_country(country) or "") if country else None
        national = digits.lstrip("0")
        if code is None:
            digits = national
        elif code == "1" and len(national) == 11 and national.startswith("1"):
            digits = national  # NANP number typed with its leading 1
        elif national.startswith(code) and len(national) > 10:
            digits = national  # already carries the country code, typed without '+'
        else:
            digits = code + national
    return digits if len(digits) >= 7 else None


def normalize_name(value: str) -> str | None:
    """Lowercase letters only: punctuation, digits and spaces go, accents stay (UTF-8, Meta CAPI rule)."""
    return _letters(value) or None


def normalize_city(value: str) -> str | None:
    """Lowercase letters only, no spaces or punctuation (``New York`` -> ``newyork``); accents stay."""
    return _letters(value) or None


def normalize_state(value: str, *, country: str | None = None) -> str | None:
    """Lowercase, letters only; a US state's full name becomes its 2-letter code (``California`` -> ``ca``)."""
    state = _letters(value)
    if not state:
        return None
    if normalize_country(country or "") in ("us", None) and state in US_STATES:
        return US_STATES[state]
    return state


def normalize_postcode(value: str, *, country: str | None = None) -> str | None:
    """Lowercase, no spaces or dashes; a US ZIP+4 keeps its first 5 digits (Meta rule, UK ``M1 1AE`` -> ``m11ae``)."""
    text = value.strip().lower()
    iso = normalize_country(country or "")
    if re.match(r"^\d{5}(-\d{4})?$", text) and iso in ("us", None):
        return text[:5]
    if iso == "us" and re.match(r"^\d{5}", text):
        return text[:5]
    code = re.sub(r"[^0-9a-z]", "", text)
    return code or None


def normalize_country(value: str) -> str | None:
    """ISO 3166-1 alpha-2 in lowercase (``US``, ``usa``, ``United States`` -> ``us``); None when unknown."""
    if not value:
        return None
    letters = re.sub(r"[^a-z]", "", value.strip().lower())
    letters = COUNTRY_ALIASES.get(letters, letters)
    return letters if len(letters) == 2 else None


def normalize_external_id(value: str) -> str | None:
    """Trimmed and lowercased, as Meta's SDK normalises ``external_id``/``EXTERN_ID`` before hashing."""
    return value.strip().lower().strip() or None


def normalize_gender(value: str) -> str | None:
    """``f`` or ``m`` (Meta accepts only these); None for anything else."""
    return GENDERS.get(value.strip().lower())


_DATE_PATTERNS: tuple[tuple[re.Pattern[str], tuple[str, str, str]], ...] = (
    # Year first is never ambiguous: 1997-02-16, 1997/02/16, 1997.2.16, 1997 02 16, 1997-02-16T00:00.
    (re.compile(r"^(\d{4})[-/. ](\d{1,2})[-/. ](\d{1,2})(?:[t ].*)?$"), ("y", "m", "d")),
    (re.compile(r"^(\d{4})(\d{2})(\d{2})$"), ("y", "m", "d")),
    # Slash or dash with the year last: month first (Meta's example 2/16/1997, US usage); read day
    # first only when the first part is over 12 (16/02/1997). 03/04/1997 is March 4.
    (re.compile(r"^(\d{1,2})[/-](\d{1,2})[/-](\d{4})$"), ("m", "d", "y")),
    # Dots with the year last are the European form: day first (16.02.1997).
    (re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$"), ("d", "m", "y")),
    # Month names: 16 Feb 1997, 16-feb-1997, February 16, 1997, Feb 16 1997.
    (re.compile(r"^(\d{1,2})[ -]([a-z]+)\.?[ -](\d{4})$"), ("d", "b", "y")),
    (re.compile(r"^([a-z]+)\.? (\d{1,2}),? (\d{4})$"), ("b", "d", "y")),
)


def normalize_date_of_birth(value: str) -> str | None:
    """``YYYYMMDD`` (Meta ``db``) from the forms in ``_DATE_PATTERNS``; None when it is not a real date.

    ``1997-02-16``, ``1997/02/16``, ``19970216``, ``2/16/1997`` and ``02-16-1997`` (month first unless
    the first part is over 12), ``16.02.1997`` (day first), ``16 Feb 1997``, ``February 16, 1997``.
    Two-digit years are refused (the century cannot be known), and so are dates before 1900 or in the future.
    """
    text = re.sub(r"\s+", " ", value.strip().lower())
    for pattern, order in _DATE_PATTERNS:
        match = pattern.match(text)
        if not match:
            continue
        parts: dict[str, int] = {}
        for key, group in zip(order, match.groups(), strict=True):
            if key == "b":
                if group not in MONTHS:
                    return None
                parts["m"] = MONTHS[group]
            elif not group.isascii():
                return None  # \d also matches other scripts' digits
            else:
                parts[key] = int(group)
        if order[0] == "m" and parts["m"] > 12:
            parts["m"], parts["d"] = parts["d"], parts["m"]
        try:
            born = date(parts["y"], parts["m"], parts["d"])
        except ValueError:
            return None
        # A birth date lies between 1900 and today; anything else is a typo, not a person.
        return f"{born.year:04d}{born.month:02d}{born.day:02d}" if date(1900, 1, 1) <= born <= date.today() else None
    return None


def _digest(normalised: str | None) -> str | None:
    return sha256_hex(normalised) if normalised else None


def hash_user_data(raw: Mapping[str, str | None]) -> dict[str, str]:
    """Normalise and hash raw customer data; only the hashes leave this function.

    Input keys: email, phone, first_name, last_name, city, state, postcode, country, external_id,
    gender, date_of_birth (missing, empty or unusable values are left out). Output keys:
    em, em_google (only when Google's gmail form differs), ph (digits incl. country code), ph_e164 (hash of '+' + digits), fn, ln, ct, st, zp,
    country, external_id, ge, db. A value that already is a SHA-256 hex digest is kept as is
    (lowercased) instead of being hashed twice; for a pre-hashed phone only ``ph`` is set.
    """
    values = {k: (str(v) if v is not None else "") for k, v in raw.items()}
    country = values.get("country", "")
    out: dict[str, str] = {}

    def put(key: str, source: str, normalise: Callable[[str], str | None]) -> None:
        value = values.get(source, "").strip()
        if not value:
            return
        if is_hashed(value):
            out[key] = value.lower()
            return
        digest = _digest(normalise(value))
        if digest:
            out[key] = digest

    put("em", "email", normalize_email)
    email = values.get("email", "").strip()
    if email and not is_hashed(email):
        for key, normalise in {rule for rule in EMAIL_RULES.values() if rule[0] != "em"}:
            digest = _digest(normalise(email))
            if digest and digest != out.get("em"):
                out[key] = digest  # only where the platform's form differs (see email_hash_for)
    phone = values.get("phone", "").strip()
    if phone and is_hashed(phone):
        out["ph"] = phone.lower()
    elif phone:
        digits = normalize_phone(phone, country=country or None)
        if digits:
            # Meta/Pinterest: digits with country code, no '+'. TikTok/Google: E.164 with '+'.
            out["ph"] = sha256_hex(digits)
            out["ph_e164"] = sha256_hex("+" + digits)
    put("fn", "first_name", normalize_name)
    put("ln", "last_name", normalize_name)
    put("ct", "city", normalize_city)
    put("st", "state", lambda v: normalize_state(v, country=country or None))
    put("zp", "postcode", lambda v: normalize_postcode(v, country=country or None))
    put("country", "country", normalize_country)
    put("external_id", "external_id", normalize_external_id)
    put("ge", "gender", normalize_gender)
    put("db", "date_of_birth", normalize_date_of_birth)
    return out
