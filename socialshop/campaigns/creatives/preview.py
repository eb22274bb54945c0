"""The admin's look at a campaign's creatives: the last run's status and result, then per variant a row of
thumbnails (the square ads, with the story and link sizes one click away). Shown read-only on the campaign
page by campaigns/admin.py.
"""
from __future__ import annotations

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from socialshop.campaigns.models import Campaign, Creative, CreativeRun

THUMBNAILS_PER_VARIANT = 8


def preview_html(campaign: Campaign) -> SafeString:
    """HTML: the last run ("never rendered" before the first) and each variant's square ads as thumbnails."""
    if campaign.pk is None:
        return mark_safe("Save the campaign, then render its creatives.")
    run = CreativeRun.objects.filter(campaign=campaign).order_by("-started_at").first()
    if run is None:
        status = format_html("<p>Never rendered. Use the action “Render ad creatives now” or "
                             "<code>manage.py socialshop_render_ads {}</code>.</p>", campaign.slug)
    else:
        state = "running" if run.finished_at is None else ("done" if run.ok else "failed")
        status = format_html('<p class="ss-creative-run ss-{}"><strong>Last render: {}</strong> at {} — {}</p>',
                             state, state, f"{run.started_at:%Y-%m-%d %H:%M}", run.message or "…")
    creatives = Creative.objects.filter(campaign=campaign).select_related("variant").order_by("variant_id", "product_id", "size")
    by_variant: dict[str, dict[str, dict[str, str]]] = {}
    for creative in creatives:
        cards = by_variant.setdefault(creative.variant.name, {})
        if creative.product_id in cards or len(cards) < THUMBNAILS_PER_VARIANT:
            cards.setdefault(creative.product_id, {})[creative.size] = creative.file.url
    rows = []
    for name, cards in by_variant.items():
        thumbs = format_html_join(
            "", '<a href="{}" title="{}" target="_blank" rel="noopener"><img src="{}" alt="ad for {}" width="120" height="120" '
                'style="margin:0 6px 6px 0;border:1px solid #ccc" loading="lazy"></a>',
            ((sizes.get("story") or sizes.get("square", ""), product_id, sizes.get("square", ""), product_id)
             for product_id, sizes in cards.items() if "square" in sizes))
        rows.append(format_html('<div class="ss-creatives-variant"><h4 style="margin:6px 0">Variant {}</h4>{}</div>',
                                name, thumbs))
    return format_html("{}{}", status, mark_safe("".join(rows)) if rows else "")
