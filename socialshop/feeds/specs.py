"""Per-platform feed specifications as data: columns, required fields, lengths, value maps, formats.

Facts come from /work/shared/reference/platforms.md (sections A–C); an ``unconfirmed`` fact there is
never a hard error here (``Limit.confirmed=False`` gives a warning). Mapping records onto these
specs is ``feeds/items.py``; the platform plugins in ``socialshop/platforms/`` hold no feed facts.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping


class Format:
    """File formats a feed can be written in (the URL's extension)."""

    XML = "xml"
    CSV = "csv"
    TSV = "tsv"
    ALL = (XML, CSV, TSV)


@dataclass(frozen=True, slots=True)
class Limit:
    """A length limit; over it, ``cut`` fields are shortened at a word boundary, others fail.

    ``confirmed=False`` marks limits only found in third-party copies: exceeding one is a warning.
    """

    max_length: int
    confirmed: bool = True
    cut: bool = False


# Canonical item fields in output order. ``id`` is renamed per platform (TikTok: ``sku_id``).
FIELDS: tuple[str, ...] = (
    "id", "item_group_id", "title", "description", "link", "image_link", "additional_image_link",
    "availability", "price", "sale_price", "sale_price_effective_date", "condition",
    "brand", "gtin", "mpn", "identifier_exists", "google_product_category", "product_type", "color", "size",
    "gender", "age_group", "material", "pattern", "shipping",
    "custom_label_0", "custom_label_1", "custom_label_2", "custom_label_3", "custom_label_4",
)

# Currencies written without minor units (ISO 4217 exponent 0).
ZERO_DECIMAL_CURRENCIES = frozenset({"JPY", "KRW", "VND", "CLP", "ISK", "UGX", "XAF", "XOF", "PYG"})

_COMMON_CONDITION = frozenset({"new", "refurbished", "used"})
_GENDERS = frozenset({"male", "female", "unisex"})
_GOOGLE_AGE_GROUPS = frozenset({"newborn", "infant", "toddler", "kids", "adult"})


@dataclass(frozen=True, slots=True)
class PlatformSpec:
    """Everything the builder needs to know about one platform's feed."""

    slug: str
    name: str
    formats: tuple[str, ...]
    #: fields whose absence leaves the item out (an error).
    required: frozenset[str]
    limits: Mapping[str, Limit]
    #: our availability (Google spelling, catalog/base.py) -> the platform's value.
    availability: Mapping[str, str]
    #: default utm_source for links.
    utm_source: str
    #: canonical field name -> column/element name where the platform differs.
    renames: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    #: fields whose absence only warns (requirement unconfirmed or "when it exists").
    recommended: frozenset[str] = frozenset()
    conditions: frozenset[str] = _COMMON_CONDITION
    genders: frozenset[str] = _GENDERS
    age_groups: frozenset[str] = _GOOGLE_AGE_GROUPS
    #: how a price is written: ``{amount}`` and ``{currency}``.
    price_format: str = "{amount} {currency}"
    #: offset style in ``sale_price_effective_date``: "+hhmm" (Google) or "+hh:mm" (Meta:
    #: YYYY-MM-DDTHH:MM±hh:mm, reference §B price/sale_price; the others follow Meta).
    sale_date_offset: str = "+hh:mm"
    #: Meta: "up to 10" on the best-practices page, 20 in a mirror; 10 is safe everywhere.
    max_additional_images: int = 10
    #: send ``identifier_exists=no`` when an item has neither brand nor gtin (Google only).
    uses_identifier_exists: bool = False
    #: the item needs brand, gtin or mpn (Meta: "at least one of brand/gtin/mpn").
    needs_some_identifier: bool = False
    #: strip emoji from titles (TikTok: "no emoji or promotional text").
    title_without_emoji: bool = False
    #: the XML namespace prefix for attributes (Google's ``g:``) — all four read Google-style RSS.
    xml_namespace: str = "http://base.google.com/ns/1.0"

    def column(self, name: str) -> str:
        """The platform's name for a canonical field."""
        return self.renames.get(name, name)


def _labels(max_length: int, confirmed: bool = True) -> dict[str, Limit]:
    return {f"custom_label_{i}": Limit(max_length, confirmed, cut=True) for i in range(5)}


GOOGLE = PlatformSpec(
    slug="google",
    name="Google Merchant Center",
    # Google: RSS 2.0 XML or tab-delimited text; classic MC does not accept .csv (reference §A Formats).
    formats=(Format.XML, Format.TSV),
    required=frozenset({"id", "title", "description", "link", "image_link", "availability", "price"}),
    recommended=frozenset({"brand"}),
    limits=MappingProxyType({
        "id": Limit(50), "title": Limit(150, cut=True), "description": Limit(5000, cut=True),
        "link": Limit(2000, confirmed=False), "image_link": Limit(2000, confirmed=False),
        "additional_image_link": Limit(2000), "item_group_id": Limit(50), "brand": Limit(70, cut=True),
        "mpn": Limit(70), "color": Limit(100, cut=True), "size": Limit(100, confirmed=False),
        "product_type": Limit(750, cut=True), "sale_price_effective_date": Limit(51), **_labels(100),
    }),
    availability=MappingProxyType({
        "in_stock": "in_stock", "out_of_stock": "out_of_stock", "preorder": "preorder", "backorder": "backorder",
    }),
    # Google: YYYY-MM-DDThh:mm±hhmm (reference §A sale_price_effective_date).
    sale_date_offset="+hhmm",
    uses_identifier_exists=True,
    utm_source="google",
)

META = PlatformSpec(
    slug="meta",
    name="Meta (Facebook & Instagram)",
    formats=(Format.XML, Format.CSV, Format.TSV),
    required=frozenset({"id", "title", "description", "availability", "condition", "price", "link", "image_link"}),
    recommended=frozenset({"brand"}),
    limits=MappingProxyType({
        "id": Limit(100), "title": Limit(200, cut=True), "description": Limit(9999, cut=True),
        "additional_image_link": Limit(2000, confirmed=False), "brand": Limit(100, confirmed=False, cut=True),
        **_labels(100, confirmed=False),
    }),
    # Meta: spaces, not underscores; backorder is "available for order" (reference §B).
    availability=MappingProxyType({
        "in_stock": "in stock", "out_of_stock": "out of stock", "preorder": "preorder",
        "backorder": "available for order",
    }),
    age_groups=_GOOGLE_AGE_GROUPS | {"all ages", "teen"},
    needs_some_identifier=True,
    utm_source="facebook",
)

PINTEREST = PlatformSpec(
    slug="pinterest",
    name="Pinterest",
    formats=(Format.XML, Format.CSV, Format.TSV),
    required=frozenset({"id", "title", "description", "link", "image_link", "price", "availability"}),
    limits=MappingProxyType({
        # Pinterest lengths are from a third-party copy (reference §C): warnings only.
        "id": Limit(127, confirmed=False), "title": Limit(500, confirmed=False, cut=True),
        "description": Limit(10000, confirmed=False, cut=True), "link": Limit(511, confirmed=False),
        "additional_image_link": Limit(2000), **_labels(511),
    }),
    # Pinterest has no backorder value; an orderable item that ships later is closest to preorder.
    availability=MappingProxyType({
        "in_stock": "in stock", "out_of_stock": "out of stock", "preorder": "preorder", "backorder": "preorder",
    }),
    utm_source="pinterest",
)

TIKTOK = PlatformSpec(
    slug="tiktok",
    name="TikTok",
    # TikTok formats are unconfirmed (reference §C); third parties report CSV/TSV/XML.
    formats=(Format.CSV, Format.TSV, Format.XML),
    renames=MappingProxyType({"id": "sku_id"}),
    required=frozenset({"id", "title", "description", "availability", "condition", "price", "link", "image_link"}),
    # TikTok lists brand among the 9 required fields, but that part of the page is unconfirmed.
    recommended=frozenset({"brand"}),
    limits=MappingProxyType({
        "id": Limit(50, confirmed=False), "title": Limit(255, confirmed=False, cut=True),
        "description": Limit(10000, confirmed=False, cut=True), **_labels(100, confirmed=False),
    }),
    availability=MappingProxyType({
        "in_stock": "in stock", "out_of_stock": "out of stock", "preorder": "preorder",
        "backorder": "available for order",
    }),
    title_without_emoji=True,
    utm_source="tiktok",
)

SPECS: Mapping[str, PlatformSpec] = MappingProxyType({s.slug: s for s in (GOOGLE, META, PINTEREST, TIKTOK)})


def spec_for(platform: str) -> PlatformSpec:
    """The spec of a platform slug; ``KeyError`` naming the slug for an unknown one."""
    try:
        return SPECS[platform]
    except KeyError:
        raise KeyError(f"no feed spec for platform {platform!r}; known: {', '.join(SPECS)}") from None
