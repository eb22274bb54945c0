"""One catalog record -> one feed item for a platform, checked against that platform's rules.

``ItemMapper.map(record)`` returns the item's fields (canonical names from ``feeds/specs.py``) and
its problems: errors leave the item out, warnings keep it. Writers (``feeds/writers.py``) only
escape; every text value here is already free of characters invalid in XML 1.0.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from operator import attrgetter
from typing import Any
from urllib.parse import urlencode

from socialshop.catalog import ProductRecord
from socialshop.feeds.gtin import GTIN_LENGTHS, SharedGtins, gtin_check_digit_ok
from socialshop.feeds.rules import LABEL_RULES, Filters, RuleContext
from socialshop.feeds.specs import PlatformSpec
from socialshop.feeds.values import ALL_SPACE, INVALID_XML_CHARS, clean_text, cut_at_word, format_moment, format_price

_EMOJI = re.compile("[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\uFE0F\u200D\U000E0020-\U000E007F]")
_GROUP_ID = re.compile(r"^[A-Za-z0-9_-]+$")
_HEX_COLOR = re.compile(r"^#?[0-9a-fA-F]{3}([0-9a-fA-F]{3})?$")

ERROR = "error"
WARNING = "warning"
FILTERED = "filtered"

Problem = tuple[str, str, str]  # (severity, code, message)

# The record fields an item's product-level part is computed from. Variants of one product share
# these values, so ``ItemMapper`` computes that part once per product (see ``map_parts``).
SHARED_INPUTS = (
    "title", "description", "url", "image_urls", "price", "currency", "sale_price", "sale_starts_at",
    "sale_ends_at", "condition", "brand", "gtin", "mpn", "google_product_category", "category_path",
    "gender", "age_group", "material", "pattern", "created_at",
)
_shared_key = attrgetter(*SHARED_INPUTS)
# Label rules whose value depends only on SHARED_INPUTS (and the build time).
SHARED_LABEL_RULES = frozenset({"on_sale", "new_arrival", "price_band", "category", "static"})
LABEL_NAMES = tuple(f"custom_label_{n}" for n in range(5))


@dataclass(frozen=True, slots=True)
class ItemOptions:
    """Feed settings the mapper needs, read once per build."""

    currency: str
    country: str
    utm: str
    image_limit: int
    default_brand: str
    default_google_category: str
    shipping_price: Decimal | None
    labels: tuple


class ItemMapper:
    """Maps and checks records for one feed build (one platform spec, one set of feed options)."""

    def __init__(self, spec: PlatformSpec, options: ItemOptions, *, filters: Filters, ctx: RuleContext) -> None:
        self.spec = spec
        self.options = options
        self.filters = filters
        self.ctx = ctx
        self.limits = dict(spec.limits)
        self._seen_chunk: set[str] = set()
        self._filtering = filters.active
        self._good_group: str | None = None
        self._prices: dict[tuple[Decimal, str], str] = {}
        self._last_sale: tuple[Any, Any, str] = (None, None, "")
        self._shared_key: tuple | None = None
        self._variant_values: dict[tuple[str, str], tuple[str | None, tuple[Problem, ...]]] = {}
        self._shared: tuple[dict[str, Any] | None, list[Problem]] = (None, [])
        self.shared_gtins = SharedGtins()  # for the whole build, not per chunk
        rules = [(index, rule) for index, rule in enumerate(options.labels[:5]) if rule]
        self._shared_labels = [
            (i, r) for i, r in rules
            if r["rule"] in SHARED_LABEL_RULES or (r["rule"] == "field" and r.get("field") in SHARED_INPUTS)
        ]
        self._own_labels = [(i, r) for i, r in rules if (i, r) not in self._shared_labels]

    @classmethod
    def for_feed(cls, feed: Any, spec: PlatformSpec, ctx: RuleContext) -> ItemMapper:
        utm = {k: v for k, v in (
            ("utm_source", feed.utm_source or spec.utm_source), ("utm_medium", feed.utm_medium),
            ("utm_campaign", feed.utm_campaign or feed.slug),
        ) if v}
        images = 0 if feed.images == "main" else min(int(feed.max_additional_images), spec.max_additional_images)
        options = ItemOptions(
            currency=feed.currency.upper(), country=feed.target_country.upper(), utm=urlencode(utm),
            image_limit=images, default_brand=clean_text(feed.default_brand),
            default_google_category=clean_text(feed.google_product_category),
            shipping_price=feed.shipping_price, labels=tuple(feed.custom_labels or ()),
        )
        return cls(spec, options, filters=Filters.of(feed), ctx=ctx)

    def new_chunk(self) -> None:
        """Forget ids seen so far (duplicates are detected within a chunk; memory stays flat)."""
        self._seen_chunk.clear()

    def _price(self, amount: Decimal, currency: str) -> str:
        """``format_price``, remembered (prices repeat across a catalogue; the memo is capped)."""
        key = (amount, currency)
        text = self._prices.get(key)
        if text is None:
            if len(self._prices) > 10_000:
                self._prices.clear()
            text = self._prices[key] = format_price(amount, currency, spec=self.spec)
        return text

    def _sale_dates(self, starts: datetime | None, ends: datetime | None) -> str:
        """``start/end`` of a sale; a one-sided sale gets the build time as start or a year as end."""
        last = self._last_sale
        if last[0] == starts and last[1] == ends:
            return last[2]
        start = starts or self.ctx.now
        end = ends or start + timedelta(days=365)
        text = f"{format_moment(start, self.spec)}/{format_moment(end, self.spec)}"
        self._last_sale = (starts, ends, text)
        return text

    def _text(self, name: str, raw: str, *, problems: list[Problem], multiline: bool = False) -> str | None:
        """``clean_text`` then ``_limit`` for a text field."""
        value = clean_text(raw, multiline=multiline)
        return self._limit(name, value, problems=problems) if value else value

    def _limit(self, name: str, value: str, *, problems: list[Problem]) -> str | None:
        """Apply a length limit: cut (warning), or error/warning when it may not be cut."""
        limit = self.limits.get(name)
        if limit is None or len(value) <= limit.max_length:
            return value
        if limit.cut:
            problems.append((WARNING, f"{name}_shortened", f"{name} cut to {limit.max_length} characters"))
            return cut_at_word(value, limit.max_length)
        if limit.confirmed:
            problems.append((ERROR, f"{name}_too_long", f"{name} is over {limit.max_length} characters"))
            return None
        problems.append((WARNING, f"{name}_may_be_too_long", f"{name} is over {limit.max_length} characters (unconfirmed limit)"))
        return value

    def map(self, record: ProductRecord) -> tuple[dict[str, Any] | None, list[Problem]]:
        """The item's fields and its problems; fields is None when an error or a filter leaves it out."""
        own, shared, problems = self.map_parts(record)
        if own is None:
            return None, problems
        return {**own, **shared}, problems  # type: ignore[dict-item]

    def map_parts(self, record: ProductRecord) -> tuple[dict[str, Any] | None, dict[str, Any] | None, list[Problem]]:
        """``(own, shared, problems)``: the item is ``own`` plus ``shared``; both None when left out.

        ``shared`` holds the fields computed only from ``SHARED_INPUTS``; it is the same dict object
        for consecutive records with equal inputs (the variants of one product), so it is computed
        once per product and writers may render it once. Never modify it.
        """
        if self._filtering:
            excluded = self.filters.exclusion(record, self.ctx.now)
            if excluded:
                return None, None, [(FILTERED, *excluded)]
        problems: list[Problem] = []
        own = self._own(record, problems)
        if own is None:
            return None, None, problems
        key = _shared_key(record)
        if key == self._shared_key:
            shared, found = self._shared
        else:
            found = []
            shared = self._shared_part(record, found)
            self._shared_key, self._shared = key, (shared, found)
        if found:
            problems.extend(found)
        if shared is None:
            return None, None, problems
        gtin = shared.get("gtin")
        if gtin:
            first = self.shared_gtins.seen_on(gtin, own["id"])
            if first is not None:
                problems.append((WARNING, "shared_gtin", f"gtin {gtin} is also on item {first}; Google "
                                 "disapproves items that share a GTIN (give each variant its own)"))
        return own, shared, problems

    def _own(self, record: ProductRecord, problems: list[Problem]) -> dict[str, Any] | None:
        """The fields that differ between variants: id, group, availability, colour, size, id labels."""
        spec = self.spec
        item: dict[str, Any] = {}
        item_id = record.id.strip()
        if not item_id:
            problems.append((ERROR, "missing_id", "the record has no id"))
            return None
        if not item_id.isprintable() and INVALID_XML_CHARS.search(item_id):
            problems.append((ERROR, "invalid_id", "id contains characters that XML cannot carry"))
            return None
        if item_id in self._seen_chunk:
            problems.append((ERROR, "duplicate_id", "another item has the same id (platforms ignore both)"))
            return None
        self._seen_chunk.add(item_id)
        if self._limit("id", item_id, problems=problems) is None:
            return None
        item["id"] = item_id
        if record.item_group_id:
            group = record.item_group_id.strip()
            if group != self._good_group and (len(group) > 50 or not _GROUP_ID.match(group)):
                problems.append((WARNING, "item_group_id_format", "item_group_id should be 1–50 of A–Z, 0–9, _ and -"))
            else:
                self._good_group = group
            item["item_group_id"] = group

        availability = spec.availability.get(record.availability)
        if availability is None:
            problems.append((ERROR, "invalid_availability", f"availability {record.availability!r} is not known"))
            return None
        item["availability"] = availability

        for name, raw in (("color", record.color), ("size", record.size)):
            if raw:
                # Few distinct colours and sizes: each is cleaned and checked once per build.
                memo = self._variant_values
                hit = memo.get((name, raw))
                if hit is None:
                    found: list[Problem] = []
                    if len(memo) > 2_000:
                        memo.clear()
                    hit = memo[(name, raw)] = (self._variant_value(name, raw, found), tuple(found))
                if hit[0]:
                    item[name] = hit[0]
                if hit[1]:
                    problems.extend(hit[1])
        if self._own_labels:
            self._labels(self._own_labels, record, item, problems)
        return item

    def _variant_value(self, name: str, raw: str, problems: list[Problem]) -> str | None:
        """A cleaned ``color`` or ``size`` (None when it is left out)."""
        value = clean_text(raw)
        if name == "color" and value:
            if _HEX_COLOR.match(value):
                problems.append((WARNING, "color_is_hex", "color is a hex code; platforms want a colour name"))
                return None
            if "/" in value or len(value) > 40:  # Google: up to 3 colours of up to 40 characters
                value = "/".join(c.strip()[:40] for c in value.split("/")[:3])
        return self._limit(name, value, problems=problems) if value else None

    def _labels(self, rules: list[tuple[int, dict]], record: ProductRecord, item: dict[str, Any], problems: list[Problem]) -> None:
        ctx = self.ctx
        for index, rule in rules:
            value = LABEL_RULES[rule["rule"]][0](rule, record, ctx=ctx, index=index)
            if value:
                name = LABEL_NAMES[index]
                value = self._limit(name, clean_text(value), problems=problems)
                if value:
                    item[name] = value

    def _shared_part(self, record: ProductRecord, problems: list[Problem]) -> dict[str, Any] | None:
        """The fields computed from ``SHARED_INPUTS`` only (None after an error, named in ``problems``)."""
        spec, opts = self.spec, self.options
        item: dict[str, Any] = {}

        title = self._text("title", record.title, problems=problems)
        if title and spec.title_without_emoji and _EMOJI.search(title):
            title = ALL_SPACE.sub(" ", _EMOJI.sub("", title)).strip()
            problems.append((WARNING, "emoji_removed", f"{spec.name} titles may not contain emoji"))
        if not title:
            problems.append((ERROR, "missing_title", "title is empty"))
            return None
        item["title"] = title

        description = self._text("description", record.description, problems=problems, multiline=True)
        if not description:
            problems.append((WARNING, "description_from_title", "description is empty; the title is used"))
            description = item["title"]
        item["description"] = description

        link = record.url.strip() if isinstance(record.url, str) else ""
        if not link:
            problems.append((ERROR, "missing_link", "the product has no URL" if not record.url
                             else f"url is a {type(record.url).__name__}, not a string"))
            return None
        if not link.startswith(("http://", "https://")):
            problems.append((ERROR, "link_not_absolute", f"link {link[:60]!r} is not absolute: set SOCIALSHOP['SITE_URL'] "
                             "(ModelCatalog), or return absolute URLs from a custom catalog adapter"))
            return None
        if opts.utm and "utm_source=" not in link:
            link = f"{link}{'&' if '?' in link else '?'}{opts.utm}"
        if self._limit("link", link, problems=problems) is None:
            return None
        item["link"] = link

        urls = (record.image_urls,) if isinstance(record.image_urls, str) else record.image_urls or ()
        images = [u for u in urls if isinstance(u, str) and u.startswith(("http://", "https://"))]
        if len(images) < len(urls):
            relative = next((u for u in urls if u not in images), "")
            problems.append((WARNING if images else ERROR, "image_not_absolute",
                             f"image URL {str(relative)[:60]!r} is not absolute: set SOCIALSHOP['SITE_URL'] or return "
                             "absolute URLs from the catalog adapter" + ("; left out" if images else "")))
        if not images:
            if not urls:
                problems.append((ERROR, "missing_image", "the product has no absolute image URL"))
            return None
        item["image_link"] = images[0]
        if opts.image_limit and len(images) > 1:
            extra = [u.replace(",", "%2C") for u in images[1: 1 + opts.image_limit] if len(u) <= 2000]
            if extra:
                item["additional_image_link"] = extra

        price = record.price
        if price is None:
            problems.append((ERROR, "missing_price", "the product has no price"))
            return None
        if not isinstance(price, Decimal):
            if not isinstance(price, int) or isinstance(price, bool):
                problems.append((ERROR, "price_not_decimal", f"price {price!r} is a {type(price).__name__}: a catalog "
                                 "adapter must give Decimal amounts (floats round, 0.1 + 0.2 != 0.3)"))
                return None
            price = Decimal(price)
        if price <= 0:
            code = "zero_price" if price == 0 else "negative_price"
            problems.append((ERROR, code, f"price {price} is not above zero"))
            return None
        currency = (record.currency or opts.currency).upper()
        if currency != opts.currency:
            problems.append((ERROR, "currency_mismatch", f"priced in {currency}, the feed is in {opts.currency}"))
            return None
        item["price"] = self._price(price, currency)
        sale = record.sale_price
        if sale is not None and not isinstance(sale, Decimal):
            if isinstance(sale, int) and not isinstance(sale, bool):
                sale = Decimal(sale)
            else:
                problems.append((WARNING, "sale_price_not_decimal", f"sale price {sale!r} is a {type(sale).__name__}, "
                                 "not a Decimal; left out"))
                sale = None
        if sale is not None:
            if sale <= 0 or sale >= price:
                problems.append((WARNING, "sale_price_ignored", "sale price is not between zero and the price"))
            elif record.sale_ends_at is not None and record.sale_ends_at <= self.ctx.now:
                pass  # the sale is over: send the regular price only
            else:
                item["sale_price"] = self._price(sale, currency)
                if record.sale_starts_at or record.sale_ends_at:
                    item["sale_price_effective_date"] = self._sale_dates(record.sale_starts_at, record.sale_ends_at)

        condition = (record.condition or "new").strip().lower()
        if condition not in spec.conditions:
            problems.append((ERROR, "invalid_condition", f"condition {record.condition!r} is not new, refurbished or used"))
            return None
        item["condition"] = condition

        brand = self._text("brand", record.brand, problems=problems) or opts.default_brand
        gtin = str(record.gtin or "")
        if gtin and not gtin.isdigit():
            gtin = "".join(gtin.split())
        if gtin and (not gtin.isdigit() or len(gtin) not in GTIN_LENGTHS):
            problems.append((WARNING, "invalid_gtin", f"gtin {gtin[:20]!r} is not 8, 12, 13 or 14 digits; left out"))
            gtin = ""
        elif gtin and not gtin_check_digit_ok(gtin):
            problems.append((WARNING, "gtin_check_digit", f"gtin {gtin} has a wrong GS1 check digit; left out"))
            gtin = ""
        mpn = clean_text(record.mpn)
        if brand:
            item["brand"] = brand
        elif "brand" in spec.recommended:
            problems.append((WARNING, "missing_brand", "no brand (set the feed's default brand for own-label goods)"))
        if gtin:
            item["gtin"] = gtin
        if mpn and self._limit("mpn", mpn, problems=problems) is not None:
            item["mpn"] = mpn
        if spec.needs_some_identifier and not (brand or gtin or mpn):
            problems.append((ERROR, "missing_identifier", f"{spec.name} needs a brand, gtin or mpn"))
            return None
        if spec.uses_identifier_exists and not gtin and not brand:
            # Google: no GTIN and no brand means no unique product identifier (reference §A identifier_exists).
            item["identifier_exists"] = "no"

        category = self._text("google_product_category", record.google_product_category, problems=problems) or opts.default_google_category
        if category:
            item["google_product_category"] = category
        if isinstance(record.category_path, str):
            # One string would be split into characters ("H > o > m > e"): name the adapter's mistake.
            problems.append((WARNING, "category_path_is_string", f"category_path {record.category_path[:60]!r} is one "
                             "string; the catalog adapter must give a sequence of names (product_type left out)"))
        elif record.category_path:
            path = " > ".join(clean_text(str(p)).replace(",", " ") for p in record.category_path)
            item["product_type"] = self._limit("product_type", path, problems=problems)

        for name in ("material", "pattern"):
            value = clean_text(getattr(record, name))
            if value:
                item[name] = self._limit(name, value, problems=problems)
        for name, allowed in (("gender", spec.genders), ("age_group", spec.age_groups)):
            value = getattr(record, name).strip().lower()
            if value:
                if value in allowed:
                    item[name] = value
                else:
                    problems.append((WARNING, f"invalid_{name}", f"{name} {value!r} is not a {spec.name} value; left out"))
        if opts.shipping_price is not None:
            item["shipping"] = [{"country": opts.country, "price": format_price(opts.shipping_price, opts.currency, spec=spec)}]
        if self._shared_labels:
            self._labels(self._shared_labels, record, item, problems)
        return item
