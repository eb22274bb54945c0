"""Rendering a campaign's creatives: for each of its products (the members' most viewed, or the ids
given), each variant and each size, draw the ad, store it through Django's storage API under
``socialshop/creatives/<campaign>/<variant>/`` and keep a ``Creative`` row; an ad whose inputs did not
change is not drawn again. Each run is recorded as a ``CreativeRun`` (admin shows the last one).

Entry points: ``render_ads(campaign, *, product_ids=None, progress=None) -> CreativeRun`` and
``carousel(campaign, variant, products)`` for one person's picks. Drawing is creatives/render.py.
"""
from __future__ import annotations

import hashlib
import io
import logging
import re
from collections.abc import Callable, Sequence
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.db.models import Count
from django.utils import timezone
from PIL import Image

from socialshop.audiences.models import VisitorLink
from socialshop.campaigns.creatives.content import ad_text
from socialshop.campaigns.creatives.render import SIZES, Colours, size_named
from socialshop.campaigns.creatives.render import render_ad as draw_ad
from socialshop.campaigns.creatives.sources import LogoRefused, brand_logo, product_photo
from socialshop.campaigns.models import Assignment, Campaign, CampaignMember, Creative, CreativeRun, MemberPick, Variant
from socialshop.campaigns.picks import picks_for_person
from socialshop.catalog import ProductRecord, get_catalog
from socialshop.conf import app_settings
from socialshop.core.jobs import single_flight
from socialshop.tracking.models import Interest

logger = logging.getLogger(__name__)

LAYOUT_VERSION = "1"  # bump when the drawing changes, so every stored ad is drawn again
RUNS_KEPT = 20  # run records kept per campaign
Progress = Callable[[int, int], None]  # (images done, images in all) after each product


def _hex(value: str) -> tuple[int, int, int]:
    value = value.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def colours() -> Colours:
    """``CREATIVE_COLORS`` as RGB (the system check has vetted the values)."""
    given = {"background": "#ffffff", "accent": "#111827", "badge": "#d7263d", **dict(app_settings.CREATIVE_COLORS)}
    return Colours(_hex(given["background"]), _hex(given["accent"]), _hex(given["badge"]))


def most_viewed(campaign: Campaign, *, limit: int) -> list[str]:
    """Product ids most viewed by the campaign's reachable (not held-out) members, most first: one query.

    A member is found in ``Interest`` by their visitor id (``v:``) or, for customers, every visitor
    linked to them (``VisitorLink``).
    """
    q = connection.ops.quote_name
    interest, members, links = (q(m._meta.db_table) for m in (Interest, CampaignMember, VisitorLink))
    sql = (f"SELECT i.product_id FROM {interest} i WHERE i.last_viewed_at IS NOT NULL AND i.visitor_id IN ("
           f"SELECT SUBSTR(m.person, 3) FROM {members} m WHERE m.campaign_id = %s AND m.holdout = %s "
           f"AND SUBSTR(m.person, 1, 2) = 'v:' UNION SELECT l.visitor_id FROM {links} l JOIN {members} m "
           f"ON m.person = l.person WHERE m.campaign_id = %s AND m.holdout = %s) "
           f"GROUP BY i.product_id ORDER BY COUNT(*) DESC, MAX(i.last_viewed_at) DESC, i.product_id LIMIT %s")
    with connection.cursor() as cursor:
        cursor.execute(sql, [campaign.pk, False, campaign.pk, False, int(limit)])
        return [row[0] for row in cursor.fetchall()]


def _safe(product_id: str) -> str:
    """A file-name-safe form of a catalog id, unique thanks to a short hash of the id itself."""
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", product_id).strip("-")[:40] or "product"
    return f"{slug}-{hashlib.sha256(product_id.encode()).hexdigest()[:6]}"


def encode_creative(img: Image.Image) -> tuple[bytes, str]:
    """The file bytes and extension of a drawn ad in ``CREATIVE_FORMAT`` (JPEG quality 88, or PNG)."""
    fmt = str(app_settings.CREATIVE_FORMAT).upper()
    out = io.BytesIO()
    if fmt == "PNG":
        img.save(out, "PNG", optimize=False)
        return out.getvalue(), "png"
    img.save(out, "JPEG", quality=88)
    return out.getvalue(), "jpg"


class _Renderer:
    """Draws and stores the ads of one run; reuses the logo, colours and each product's decoded photo."""

    def __init__(self, campaign: Campaign) -> None:
        self.campaign = campaign
        self.logo = brand_logo()
        self.colours = colours()
        self.logo_key = f"{app_settings.BRAND_LOGO}|{self.colours}|{app_settings.CREATIVE_FORMAT}|{LAYOUT_VERSION}"
        self.existing = {(c.variant_id, c.product_id, c.size): c for c in Creative.objects.filter(campaign=campaign)}
        self.rendered = self.unchanged = self.placeholders = 0

    def product(self, record: ProductRecord, variants: Sequence[Variant], sizes: Sequence[str]) -> list[Creative]:
        """Every (variant, size) ad of one product, drawn when missing or changed; rows saved in one query."""
        photo: tuple[Image.Image | None, str] | None = None
        now = timezone.now()
        rows: list[Creative] = []
        for variant in variants:
            words = ad_text(self.campaign, variant, record, at=now)
            for size_name in sizes:
                spec = size_named(size_name)
                fingerprint = hashlib.sha256(repr((words, spec.name, record.image_urls[:3], self.logo_key)).encode()).hexdigest()
                old = self.existing.get((variant.pk, record.id, spec.name))
                if old is not None and old.fingerprint == fingerprint and default_storage.exists(old.file.name):
                    self.unchanged += 1
                    rows.append(old)
                    continue
                if photo is None:
                    photo = product_photo(record.image_urls)
                ad = draw_ad(words, spec, photo=photo[0], logo=self.logo, colours=self.colours)
                data, ext = encode_creative(ad.image)
                name = f"socialshop/creatives/{self.campaign.slug}/{variant.pk}/{_safe(record.id)}-{spec.name}-{fingerprint[:10]}.{ext}"
                if default_storage.exists(name):
                    default_storage.delete(name)
                stored = default_storage.save(name, ContentFile(data))
                if old is not None and old.file.name != stored and default_storage.exists(old.file.name):
                    default_storage.delete(old.file.name)
                self.rendered += 1
                self.placeholders += ad.placeholder
                rows.append(Creative(
                    campaign=self.campaign, variant=variant, product_id=record.id, size=spec.name, file=stored,
                    width=ad.image.width, height=ad.image.height, fingerprint=fingerprint, placeholder=ad.placeholder,
                    truncated=any(t.truncated for t in ad.texts), note=photo[1][:300], rendered_at=now))
        fresh = [row for row in rows if row.pk is None]
        if fresh:
            Creative.objects.bulk_create(
                fresh, update_conflicts=True, unique_fields=["campaign", "variant", "product_id", "size"],
                update_fields=["file", "width", "height", "fingerprint", "placeholder", "truncated", "note", "rendered_at",
                               "updated_at"])
        return rows


def render_ads(campaign: Campaign, *, product_ids: Sequence[str] | None = None, progress: Progress | None = None,
               sizes: Sequence[str] | None = None) -> CreativeRun:
    """Render ``campaign``'s creatives now and return the run's record.

    Products: ``product_ids`` when given, else the ``CREATIVE_PRODUCTS`` most viewed by its members.
    A campaign without members, variants or products draws nothing and says why in ``message``. A
    refused logo fails the run (``ok`` False) before anything is drawn. Single-flight per campaign.
    """
    sizes = list(sizes or [s.name for s in SIZES])
    with single_flight(f"socialshop.render_ads:{campaign.pk}"):
        run = CreativeRun.objects.create(campaign=campaign, started_at=timezone.now())
        try:
            _render(campaign, run, product_ids=product_ids, progress=progress, sizes=sizes)
        except LogoRefused as exc:
            run.ok, run.message = False, str(exc)[:500]
        except Exception as exc:  # noqa: BLE001 - recorded on the run; earlier creatives stay
            logger.exception("campaign %s: rendering creatives failed", campaign.slug)
            run.ok, run.message = False, f"{type(exc).__name__}: {exc}"[:500]
        run.finished_at = timezone.now()
        run.save()
        keep = CreativeRun.objects.filter(campaign=campaign).order_by("-started_at").values("pk")[:RUNS_KEPT]
        CreativeRun.objects.filter(campaign=campaign).exclude(pk__in=keep).delete()
        return run


def most_picked(campaign: Campaign, *, limit: int) -> list[str]:
    """Product ids picked for most of the campaign's members (campaigns/picks.py), most first: one query."""
    rows = (MemberPick.objects.filter(campaign=campaign).values("product_id").annotate(n=Count("pk"))
            .order_by("-n", "product_id").values_list("product_id", flat=True)[:int(limit)])
    return list(rows)


def _render(campaign: Campaign, run: CreativeRun, *, product_ids: Sequence[str] | None, progress: Progress | None,
            sizes: list[str]) -> None:
    variants = list(campaign.variants.order_by("pk"))
    if not variants:
        run.ok, run.message = True, f"Campaign {campaign.slug} has no variants: nothing rendered; add one with a headline."
        return
    if product_ids is None:
        if not CampaignMember.objects.filter(campaign=campaign, holdout=False).exists():
            run.ok, run.message = True, (f"Campaign {campaign.slug} has no members yet: nothing rendered. "
                                         "Refresh its targeting once its audiences have members.")
            return
        limit = int(app_settings.CREATIVE_PRODUCTS)
        # The products the members' carousels show (their picks), topped up with their most viewed.
        product_ids = list(dict.fromkeys(most_picked(campaign, limit=limit) + most_viewed(campaign, limit=limit)))[:limit]
    ids = list(dict.fromkeys(str(i) for i in product_ids))
    records = get_catalog().get_records(ids) if ids else {}
    found = [records[i] for i in ids if i in records]
    if not found:
        run.ok, run.message = True, (f"Campaign {campaign.slug}: no products to show (its members viewed none "
                                     "that the catalogue has): nothing rendered.")
        return
    renderer = _Renderer(campaign)
    total = len(found) * len(variants) * len(sizes)
    for n, record in enumerate(found, 1):
        renderer.product(record, variants, sizes)
        if progress is not None:
            progress(n * len(variants) * len(sizes), total)
    missing = len(ids) - len(found)
    run.products, run.rendered, run.unchanged, run.placeholders = len(found), renderer.rendered, renderer.unchanged, renderer.placeholders
    run.ok = True
    run.message = (f"{len(found)} products x {len(variants)} variants x {len(sizes)} sizes: {renderer.rendered} drawn, "
                   f"{renderer.unchanged} unchanged, {renderer.placeholders} with a placeholder picture"
                   + (f"; {missing} products not in the catalogue" if missing else ""))


def carousel(campaign: Campaign, variant: Variant, products: Sequence[ProductRecord], *,
             size: str = "square") -> list[Creative]:
    """One person's carousel: the cards of ``products`` (their picks, in order) for their variant.

    Cards are per product, not per person (no personal data in the files); a card already drawn is
    reused. The picks come from ``picks_for_person(campaign, person)`` (campaigns/picks.py).
    """
    if not products:
        return []
    renderer = _Renderer(campaign)
    return [card for record in products for card in renderer.product(record, [variant], [size])]


def render_by_slug(slug: str, *, product_ids: Sequence[str] | None = None) -> dict[str, Any]:
    """For the task: render the campaign with this slug; a summary dict (``status`` "missing" when unknown)."""
    campaign = Campaign.objects.filter(slug=slug).first()
    if campaign is None:
        return {"slug": slug, "status": "missing"}
    run = render_ads(campaign, product_ids=product_ids)
    return {"slug": slug, "status": "ok" if run.ok else "failed", "rendered": run.rendered, "unchanged": run.unchanged,
            "message": run.message}


def carousel_for_person(campaign: Campaign, person: str, *, size: str = "square") -> list[Creative]:
    """``person``'s carousel: the cards of their picks (``picks_for_person``) in their variant; ``[]`` for the
    hold-out, a person not in the campaign, or one without picks."""
    assignment = Assignment.objects.filter(campaign=campaign, person=person).select_related("variant").first()
    if assignment is None or assignment.variant is None:
        return []
    return carousel(campaign, assignment.variant, picks_for_person(campaign, person), size=size)
