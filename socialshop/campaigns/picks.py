"""Product picks per campaign member (``MemberPick``): what each person viewed or carted, most recent first,
without what they bought or what is out of stock, topped up with related products, at most
``Campaign.picks_per_person``; and the campaign's product set (``ProductSetItem``) the feeds label.

Computed for the whole campaign in a constant number of queries: SQL over ``Interest`` (tracking/interest.py)
and the members, plus catalog lookups in chunks for stock and category. ``refresh_picks`` runs at each
campaign refresh (campaigns/targeting.py); channels read ``picks_for_person``. Platform product sets are
campaigns/product_sets.py.
"""
from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection
from django.utils import timezone

from socialshop.audiences.models import VisitorLink
from socialshop.campaigns.models import Campaign, CampaignMember, CampaignStatus, MemberPick, MemberState, PickReason
from socialshop.catalog import Availability, ProductRecord, get_catalog
from socialshop.core.db import writing
from socialshop.feeds.models import ProductSetItem
from socialshop.tracking.models import Interest

logger = logging.getLogger(__name__)

# Co-purchased products kept per product, and the most popular products whose categories are read for
# "same category" top-ups: both bound the catalog lookups, whatever the number of members.
BOUGHT_TOGETHER_PER_PRODUCT = 10
POPULAR_PRODUCTS = 2000
# PostgreSQL: memory for the sorts and hashes of the one picks statement (this transaction only). Measured
# with 100,000 members over 1,000,000 events (bench/picks.py): 79 s at the default 4MB (sorts spill to
# disk), 51 s at 64MB, on the shared 2-core machine at load 10.
PG_WORK_MEM = "64MB"


@dataclass(frozen=True, slots=True)
class PicksPass:
    """What one picks refresh wrote: persons with picks, pick rows, distinct products in the campaign's set."""

    campaign: str
    persons: int
    picks: int
    products: int


def _t(model: Any) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _db(value: datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def _json_rows(columns: Sequence[str]) -> str:
    """SQL for a JSON-array parameter of arrays as a table with ``columns`` (all text)."""
    if connection.vendor == "postgresql":
        cols = ", ".join(f"x.value ->> {i} AS {c}" for i, c in enumerate(columns))
        return f"SELECT {cols} FROM jsonb_array_elements(CAST(%s AS jsonb)) AS x(value)"
    cols = ", ".join(f"json_extract(x.value, '$[{i}]') AS {c}" for i, c in enumerate(columns))
    return f"SELECT {cols} FROM json_each(%s) AS x"


def _persons_sql() -> str:
    """(person, visitor_id) of the campaign's reached members (not hold-out, not left): a ``v:`` person is its
    visitor, an account or hashed-email person is every visitor linked to it (audiences' ``VisitorLink``)."""
    members, links = _t(CampaignMember), _t(VisitorLink)
    where = "m.campaign_id = %s AND m.holdout = %s AND m.state <> %s"
    return (f"SELECT m.person AS person, SUBSTR(m.person, 3) AS visitor_id FROM {members} m "
            f"WHERE {where} AND m.person LIKE 'v:%%' "
            f"UNION ALL SELECT m.person, l.visitor_id FROM {members} m JOIN {links} l ON l.person = m.person WHERE {where}")


def _later(a: str, b: str) -> str:
    return f"CASE WHEN {b} IS NULL OR ({a} IS NOT NULL AND {a} > {b}) THEN {a} ELSE {b} END"


def picks_sql() -> str:
    """The one statement writing every member's picks: interest per person (all their visitors), minus bought
    and unavailable products, ranked by latest action (a cart before a view at equal times, then product
    id), then related products of their top picks in their order; at most ``limit`` per person.

    Parameters: persons params (6), unavailable ids (JSON), related rows (JSON), limit, campaign id, now, limit.
    """
    interest = _t(Interest)
    latest = _later("i.last_carted_at", "i.last_viewed_at")
    carted_last = "CASE WHEN i.last_carted_at IS NOT NULL AND (i.last_viewed_at IS NULL OR i.last_carted_at >= i.last_viewed_at) THEN 1 ELSE 0 END"
    return (
        f"WITH pv AS ({_persons_sql()}), "
        f"gone AS ({_json_rows(['product_id'])}), "
        f"rel AS ({_json_rows(['seed', 'product_id', 'reason', 'pos'])}), "
        f"own AS (SELECT pv.person AS person, i.product_id AS product_id, MAX({latest}) AS at, MAX({carted_last}) AS carted_last, "
        f"MAX(CASE WHEN i.last_carted_at IS NOT NULL THEN 1 ELSE 0 END) AS carted, "
        f"MAX(CASE WHEN i.purchased_at IS NOT NULL THEN 1 ELSE 0 END) AS bought "
        f"FROM pv JOIN {interest} i ON i.visitor_id = pv.visitor_id GROUP BY pv.person, i.product_id), "
        f"ranked AS (SELECT o.person, o.product_id, o.carted, ROW_NUMBER() OVER (PARTITION BY o.person "
        f"ORDER BY o.at DESC, o.carted_last DESC, o.product_id) AS rn FROM own o WHERE o.bought = 0 AND o.at IS NOT NULL "
        f"AND o.product_id NOT IN (SELECT g.product_id FROM gone g)), "
        f"candidates AS (SELECT r.person, r.product_id, CASE WHEN r.carted = 1 THEN '{PickReason.CARTED}' "
        f"ELSE '{PickReason.VIEWED}' END AS reason, 0 AS grp, r.rn AS ord FROM ranked r WHERE r.rn <= %s "
        f"UNION ALL SELECT r.person, x.product_id, x.reason, 1, r.rn * 1000 + CAST(x.pos AS INTEGER) "
        f"FROM ranked r JOIN rel x ON x.seed = r.product_id WHERE r.rn <= %s AND NOT EXISTS "
        f"(SELECT 1 FROM own o WHERE o.person = r.person AND o.product_id = x.product_id)), "
        f"deduped AS (SELECT c.person, c.product_id, c.reason, c.grp, c.ord, ROW_NUMBER() OVER "
        f"(PARTITION BY c.person, c.product_id ORDER BY c.grp, c.ord) AS once FROM candidates c), "
        f"final AS (SELECT d.person, d.product_id, d.reason, ROW_NUMBER() OVER (PARTITION BY d.person "
        f"ORDER BY d.grp, d.ord, d.product_id) AS rank FROM deduped d WHERE d.once = 1) "
        f"INSERT INTO {_t(MemberPick)} (campaign_id, person, rank, product_id, reason, created_at) "
        f"SELECT %s, f.person, f.rank, f.product_id, f.reason, %s FROM final f WHERE f.rank <= %s"
    )


def _persons_params(campaign: Campaign) -> list[Any]:
    return [campaign.pk, False, MemberState.LEFT] * 2


def _candidate_products(campaign: Campaign) -> list[str]:
    """Every product the reached members have any interest in (one query)."""
    sql = (f"SELECT DISTINCT i.product_id FROM ({_persons_sql()}) pv "
           f"JOIN {_t(Interest)} i ON i.visitor_id = pv.visitor_id")
    with connection.cursor() as cursor:
        cursor.execute(sql, _persons_params(campaign))
        return [row[0] for row in cursor.fetchall()]


def _bought_together(products: set[str]) -> dict[str, list[str]]:
    """product -> products bought by the same visitors that bought it, most often first (one query over Interest)."""
    if not products:
        return {}
    interest = _t(Interest)
    sql = (f"SELECT t.seed, t.other FROM (SELECT a.product_id AS seed, b.product_id AS other, ROW_NUMBER() OVER "
           f"(PARTITION BY a.product_id ORDER BY COUNT(*) DESC, b.product_id) AS rn FROM {interest} a "
           f"JOIN {interest} b ON b.visitor_id = a.visitor_id AND b.product_id <> a.product_id AND b.purchased_at IS NOT NULL "
           f"WHERE a.purchased_at IS NOT NULL GROUP BY a.product_id, b.product_id) t WHERE t.rn <= %s ORDER BY t.seed, t.rn")
    together: dict[str, list[str]] = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(sql, [BOUGHT_TOGETHER_PER_PRODUCT])
        for seed, other in cursor.fetchall():
            if seed in products:
                together[seed].append(other)
    return together


def _popular() -> list[str]:
    """The products with the most interested visitors, most first (one query)."""
    sql = (f"SELECT i.product_id FROM {_t(Interest)} i GROUP BY i.product_id "
           f"ORDER BY COUNT(*) DESC, i.product_id LIMIT {POPULAR_PRODUCTS}")
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [row[0] for row in cursor.fetchall()]


def _records(ids: Iterable[str]) -> dict[str, ProductRecord]:
    """Catalog records by id, fetched in the catalog's chunk size (a constant number of queries per chunk)."""
    catalog = get_catalog()
    wanted = sorted(set(ids))
    size = max(1, int(getattr(catalog, "chunk_size", 1000) or 1000))
    found: dict[str, ProductRecord] = {}
    for start in range(0, len(wanted), size):
        found.update(catalog.get_records(wanted[start:start + size]))
    return found


def _pickable(record: ProductRecord | None) -> bool:
    return record is not None and record.availability != Availability.OUT_OF_STOCK


def related_rows(seeds: Sequence[str], *, limit: int) -> tuple[list[str], list[list[Any]]]:
    """(unavailable seed ids, related rows [seed, product, reason, position]) for the seeds.

    Related: products bought by the same visitors (most often first), then the most popular products of the
    seed's category (by interested visitors); never the seed itself nor an unavailable product; ``limit`` each.
    """
    together = _bought_together(set(seeds))
    popular = _popular()
    records = _records([*seeds, *popular, *(p for others in together.values() for p in others)])
    by_category: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for product in popular:
        record = records.get(product)
        if _pickable(record) and record.category_path:  # type: ignore[union-attr]
            by_category[record.category_path].append(product)  # type: ignore[union-attr]
    unavailable = sorted(seed for seed in seeds if not _pickable(records.get(seed)))
    rows: list[list[Any]] = []
    for seed in seeds:
        chosen: list[tuple[str, str]] = []
        record = records.get(seed)
        options = [(p, PickReason.BOUGHT_TOGETHER.value) for p in together.get(seed, ())]
        options += [(p, PickReason.SAME_CATEGORY.value) for p in (by_category.get(record.category_path, ()) if record else ())]
        for product, reason in options:
            if len(chosen) >= limit:
                break
            if product != seed and _pickable(records.get(product)) and all(product != c for c, _ in chosen):
                chosen.append((product, reason))
        rows += [[seed, product, reason, position] for position, (product, reason) in enumerate(chosen)]
    return unavailable, rows


def refresh_picks(campaign: Campaign, *, now: datetime | None = None) -> PicksPass:
    """Recompute every reached member's picks for ``campaign`` and its product set; returns the counts.

    A constant number of queries whatever the number of members. A campaign that is not running keeps no
    picks and no product set (its label disappears from the next feed builds).
    """
    now = now or timezone.now()
    running = campaign.effective_status(now) == CampaignStatus.RUNNING
    limit = int(campaign.picks_per_person or 4)
    seeds = _candidate_products(campaign) if running else []
    unavailable, rows = related_rows(seeds, limit=limit) if seeds else ([], [])
    with writing(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {_t(MemberPick)} WHERE campaign_id = %s", [campaign.pk])
        cursor.execute(f"DELETE FROM {_t(ProductSetItem)} WHERE name = %s", [campaign.slug])
        if not seeds:
            return PicksPass(campaign=campaign.slug, persons=0, picks=0, products=0)
        if connection.vendor == "postgresql":
            cursor.execute(f"SET LOCAL work_mem = '{PG_WORK_MEM}'")
        cursor.execute(picks_sql(), [*_persons_params(campaign), json.dumps([[i] for i in unavailable]), json.dumps(rows),
                                     limit, limit, campaign.pk, _db(now), limit])
        cursor.execute(
            f"INSERT INTO {_t(ProductSetItem)} (name, product_id, weight, updated_at) "
            f"SELECT %s, p.product_id, COUNT(*), %s FROM {_t(MemberPick)} p WHERE p.campaign_id = %s GROUP BY p.product_id",
            [campaign.slug, _db(now), campaign.pk])
        products = max(cursor.rowcount, 0)
        cursor.execute(f"SELECT COUNT(*), COUNT(DISTINCT person) FROM {_t(MemberPick)} WHERE campaign_id = %s", [campaign.pk])
        picks, persons = (int(n) for n in cursor.fetchone())
    logger.info("campaign %s: %d picks for %d persons, %d products", campaign.slug, picks, persons, products)
    return PicksPass(campaign=campaign.slug, persons=persons, picks=picks, products=products)


def picks_for_person(campaign: Campaign, person: str) -> list[ProductRecord]:
    """The person's picks for ``campaign`` as catalog records, best first (from the last refresh).

    Products the catalog no longer has are left out; an unknown person gets ``[]``. Two queries plus one
    catalog lookup. Channels (email, creatives) call this.
    """
    ids = list(MemberPick.objects.filter(campaign=campaign, person=str(person)[:80]).order_by("rank")
               .values_list("product_id", flat=True))
    if not ids:
        return []
    records = get_catalog().get_records(ids)
    return [records[i] for i in ids if i in records]


def picks_by_person(campaign: Campaign, persons: Sequence[str]) -> dict[str, list[str]]:
    """The catalog ids picked for each of ``persons`` in ``campaign``, best first: one query for a whole batch
    (the email channel reads a batch's picks with it)."""
    found: dict[str, list[str]] = {}
    rows = (MemberPick.objects.filter(campaign=campaign, person__in=[str(p)[:80] for p in persons])
            .order_by("person", "rank").values_list("person", "product_id"))
    for person, product_id in rows:
        found.setdefault(person, []).append(product_id)
    return found
