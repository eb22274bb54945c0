"""GTINs in feeds: the GS1 check digit, and GTINs shared by several items of one build.

``feeds/items.py`` calls both while mapping; ``feeds/builder.py`` reports the shared ones.
"""
from __future__ import annotations

GTIN_LENGTHS = (8, 12, 13, 14)
EXAMPLE_GROUPS = 5  # shared GTINs named in a build's summary; the count covers all of them


def gtin_check_digit_ok(gtin: str) -> bool:
    """True when the last digit of a GTIN-8/12/13/14 is its GS1 mod-10 check digit.

    GS1 General Specifications 7.9: from the right, excluding the check digit, digits are weighted
    3, 1, 3, 1, ...; the check digit brings the sum up to a multiple of 10.
    """
    if len(gtin) not in GTIN_LENGTHS or not (gtin.isascii() and gtin.isdigit()):
        return False
    body = gtin[:-1]
    total = 3 * sum(map(int, body[::-2])) + sum(map(int, body[-2::-2]))
    return (10 - total % 10) % 10 == int(gtin[-1])


class SharedGtins:
    """GTIN -> the first item id that carried it, for one build (one dict entry per distinct GTIN).

    Keys are the GTIN as an int (GTIN-12/13/14 of one product are the same number, zero-padded),
    values the record's own id string (no copy), so 100,000 distinct GTINs cost a few MB and the
    common case (few GTINs, or one per item group) far less. Shared GTINs are counted; only
    ``EXAMPLE_GROUPS`` of them keep their ids for the report.
    """

    __slots__ = ("first", "groups", "items", "examples")

    def __init__(self) -> None:
        self.first: dict[int, str] = {}
        self.groups: dict[int, int] = {}  # shared GTIN -> items carrying it (2 or more)
        self.items = 0  # items whose GTIN another item of the build also has (first ones included)
        self.examples: dict[int, tuple[str, list[str]]] = {}  # key -> (GTIN as written, item ids)

    def seen_on(self, gtin: str, item_id: str) -> str | None:
        """Record that ``item_id`` carries ``gtin``; the first item's id when another item already had it."""
        key = int(gtin)
        first = self.first.setdefault(key, item_id)
        if first == item_id:
            return None
        count = self.groups.get(key, 1)
        self.items += 2 if count == 1 else 1
        self.groups[key] = count + 1
        example = self.examples.get(key)
        if example is None and len(self.examples) < EXAMPLE_GROUPS:
            example = self.examples[key] = (gtin, [first])
        if example is not None and len(example[1]) < EXAMPLE_GROUPS:
            example[1].append(item_id)
        return first

    def summary(self) -> str:
        """One line for the build report: how many GTINs are shared by how many items, with examples."""
        if not self.groups:
            return ""
        shown = "; ".join(f"{gtin}: {', '.join(ids)}" for gtin, ids in self.examples.values())
        return (f"{len(self.groups)} GTINs are each on several items ({self.items} items); Google treats items "
                f"that share a GTIN as ambiguous and disapproves them. Give each variant its own GTIN "
                f"(map 'gtin' in CATALOG_OPTIONS['variants']['fields']). E.g. {shown}")

