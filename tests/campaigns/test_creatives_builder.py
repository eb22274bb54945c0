"""A campaign's creatives end to end: products from the members' views (one query, whatever the number of
members), every size for every variant stored through Django's storage, unchanged ads not drawn again, the
command's progress and summary, and the bad inputs: no members, no image, a hostile product image, an SVG or
decompression-bomb logo."""
from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from PIL import Image

from shop_demo.store.models import ProductImage
from socialshop.audiences.models import VisitorLink
from socialshop.campaigns.creatives.builder import carousel, most_viewed, render_ads
from socialshop.campaigns.models import Campaign, CampaignMember, Creative, CreativeRun, Variant
from socialshop.campaigns.targeting import refresh_campaign
from socialshop.catalog import get_catalog
from socialshop.tracking.models import Interest
from tests.campaigns.conftest import H, NOW, join, make_audience, make_campaign, with_incentive
from tests.factories import ProductFactory
from tests.posts.test_images import png_with_header

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _own_media_root(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")


def _jpeg(colour: tuple[int, int, int] = (180, 120, 60), size: tuple[int, int] = (800, 800)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG")
    return out.getvalue()


def product(name: str, *, image: bytes | None = None, price: str = "40.00", sale: str | None = None) -> str:
    """A demo-store product (with an image in storage unless ``image`` is b"") and its catalog id."""
    item = ProductFactory(name=name, price=price, sale_price=sale)
    if image != b"":
        stored = default_storage.save(f"products/{item.slug}.jpg", ContentFile(image or _jpeg()))
        ProductImage.objects.create(product=item, image=stored)
    return str(item.pk)


def viewer(n: int) -> str:
    return f"creative-visitor-{n:06d}"


def campaign_with_members(count: int = 3, *, variants: tuple[tuple[str, int], ...] = (("A", 1), ("B", 1))) -> Campaign:
    audience = make_audience()
    campaign = with_incentive(make_campaign(audience, holdout_percent=0, variants=variants))
    for i in range(count):
        join(audience, f"v:{viewer(i)}", qualified_at=NOW - 2 * H)
    refresh_campaign(campaign)
    Variant.objects.filter(campaign=campaign).update(headline="Still thinking about it?", body="Shop now")
    return campaign


def viewed(visitor: str, product_id: str, *, ago: int = 1) -> None:
    at = timezone.now() - timedelta(hours=ago)
    Interest.objects.create(visitor_id=visitor, product_id=product_id, last_viewed_at=at, updated_at=at)


def files_of(campaign: Campaign) -> list[str]:
    names = []
    for variant in campaign.variants.all():
        folder = f"socialshop/creatives/{campaign.slug}/{variant.pk}"
        if default_storage.exists(folder):
            names += [f"{folder}/{n}" for n in default_storage.listdir(folder)[1]]
    return sorted(names)


def test_render_ads_stores_every_size_for_every_variant_and_product() -> None:
    campaign = campaign_with_members()
    shirt, dress = product("Linen shirt", sale="30.00"), product("Summer dress")
    viewed(viewer(0), shirt)
    viewed(viewer(1), shirt)
    viewed(viewer(2), dress)
    run = render_ads(campaign)
    assert run.ok and run.products == 2 and run.rendered == 2 * 2 * 3 and run.placeholders == 0, run.message
    assert "2 products x 2 variants x 3 sizes: 12 drawn" in run.message
    creatives = list(Creative.objects.filter(campaign=campaign))
    assert len(creatives) == 12 and len(files_of(campaign)) == 12
    for creative in creatives:
        with default_storage.open(creative.file.name, "rb") as fh:
            img = Image.open(fh)
            img.verify()
        assert img.format == "JPEG" and img.size == (creative.width, creative.height)
        assert {"square": (1080, 1080), "story": (1080, 1920), "landscape": (1200, 628)}[creative.size] == img.size
        assert creative.file.name.startswith(f"socialshop/creatives/{campaign.slug}/{creative.variant_id}/")
    assert CreativeRun.objects.get(campaign=campaign).finished_at is not None


def test_a_second_run_draws_nothing_and_a_changed_product_only_itself() -> None:
    campaign = campaign_with_members(variants=(("A", 1),))
    shirt, dress = product("Linen shirt"), product("Summer dress")
    viewed(viewer(0), shirt)
    viewed(viewer(1), dress)
    render_ads(campaign)
    before = files_of(campaign)
    again = render_ads(campaign)
    assert (again.rendered, again.unchanged) == (0, 6) and files_of(campaign) == before
    from shop_demo.store.models import Product

    Product.objects.filter(pk=shirt).update(name="Linen shirt, washed")
    third = render_ads(campaign)
    assert (third.rendered, third.unchanged) == (3, 3)
    after = files_of(campaign)
    assert len(after) == 6 and len(set(after) - set(before)) == 3  # the old shirt files are gone, not kept beside


def test_products_are_the_members_most_viewed_in_one_query_whatever_their_number() -> None:
    campaign = campaign_with_members(count=40, variants=(("A", 1),))
    ids = [product(f"P{i}", image=b"") for i in range(4)]
    for n in range(40):
        viewed(viewer(n), ids[0])
        if n % 2:
            viewed(viewer(n), ids[1])
    viewed(viewer(3), ids[2])
    viewed("not-a-member-visitor-01", ids[3])  # someone outside the campaign
    viewed("not-a-member-visitor-02", ids[3])
    # A signed-in customer is a member through their account; their visitor's views count.
    CampaignMember.objects.create(campaign=campaign, person="u:77", holdout=False, state="targeted", updated_at=NOW)
    VisitorLink.objects.create(visitor_id="linked-visitor-000077", person="u:77", user_id=77, linked_at=NOW)
    viewed("linked-visitor-000077", ids[3], ago=5)  # as often as ids[2] (once), but longer ago
    with CaptureQueriesContext(connection) as queries:
        assert most_viewed(campaign, limit=10) == [ids[0], ids[1], ids[2], ids[3]]
    assert len(queries) == 1
    assert most_viewed(campaign, limit=2) == [ids[0], ids[1]]


def test_held_out_members_views_do_not_choose_products() -> None:
    campaign = campaign_with_members(count=1, variants=(("A", 1),))
    CampaignMember.objects.create(campaign=campaign, person="v:held-out-visitor-0001", holdout=True, state="targeted",
                                  updated_at=NOW)
    item = product("Shirt", image=b"")
    viewed("held-out-visitor-0001", item)
    assert most_viewed(campaign, limit=10) == []


def test_a_campaign_without_members_renders_nothing_and_says_so() -> None:
    campaign = make_campaign(make_audience())
    product("Shirt")
    run = render_ads(campaign)
    assert run.ok and run.rendered == 0 and "has no members yet: nothing rendered" in run.message
    assert not Creative.objects.exists() and files_of(campaign) == []
    out = io.StringIO()
    call_command("socialshop_render_ads", campaign.slug, stdout=out)
    assert "has no members yet" in out.getvalue()


def test_a_product_without_an_image_or_with_a_hostile_one_gets_the_placeholder() -> None:
    campaign = campaign_with_members(variants=(("A", 1),))
    bare = product("No picture", image=b"")
    svg = product("Vector", image=b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>')
    bomb = product("Bomb", image=png_with_header(50_000, 50_000))
    run = render_ads(campaign, product_ids=[bare, svg, bomb])
    assert run.ok and run.rendered == 9 and run.placeholders == 9
    notes = {c.product_id: c.note for c in Creative.objects.filter(campaign=campaign, size="square")}
    assert notes[bare] == "no image" and "SVG" in notes[svg] and "too many pixels" in notes[bomb]


def test_ids_not_in_the_catalogue_are_counted_not_fatal() -> None:
    campaign = campaign_with_members(variants=(("A", 1),))
    shirt = product("Shirt")
    run = render_ads(campaign, product_ids=[shirt, "no-such-product"])
    assert run.ok and run.products == 1 and "1 products not in the catalogue" in run.message


@pytest.mark.parametrize("logo, words", [
    (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "SVG images are not accepted"),
    (png_with_header(60_000, 60_000), "too many pixels"),
])
def test_a_hostile_logo_is_refused_with_a_clear_message_and_nothing_drawn(settings: Any, logo: bytes, words: str) -> None:
    name = default_storage.save("brand/logo.png", ContentFile(logo))
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "BRAND_LOGO": name}
    campaign = campaign_with_members(variants=(("A", 1),))
    shirt = product("Shirt")
    run = render_ads(campaign, product_ids=[shirt])
    assert not run.ok and "SOCIALSHOP['BRAND_LOGO']" in run.message and words in run.message
    assert not Creative.objects.exists()
    with pytest.raises(CommandError, match=words):
        call_command("socialshop_render_ads", campaign.slug, "--product", shirt, stdout=io.StringIO())


def test_a_good_logo_is_drawn(settings: Any) -> None:
    logo = io.BytesIO()
    Image.new("RGBA", (300, 100), (200, 0, 0, 255)).save(logo, "PNG")
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "BRAND_LOGO": default_storage.save("brand/logo.png", ContentFile(logo.getvalue()))}
    campaign = campaign_with_members(variants=(("A", 1),))
    render_ads(campaign, product_ids=[product("Shirt", image=_jpeg((0, 90, 0)))], sizes=["square"])
    creative = Creative.objects.get(campaign=campaign)
    with default_storage.open(creative.file.name, "rb") as fh:
        img = Image.open(fh).convert("RGB")
    red = img.crop((64, 64, 200, 120)).get_flattened_data()
    assert any(r > 150 and g < 60 and b < 60 for r, g, b in red)


def test_the_command_prints_progress_and_a_summary_and_refuses_an_unknown_slug() -> None:
    campaign = campaign_with_members(variants=(("A", 1),))
    viewed(viewer(0), product("Shirt"))
    out = io.StringIO()
    call_command("socialshop_render_ads", campaign.slug, stdout=out)
    text = out.getvalue()
    assert "3/3 images" in text and f"{campaign.slug}: 1 products x 1 variants x 3 sizes: 3 drawn" in text
    with pytest.raises(CommandError, match="no campaign with slug 'nope'"):
        call_command("socialshop_render_ads", "nope", stdout=io.StringIO())


def test_a_carousel_is_the_cards_of_the_given_products_in_order_and_reuses_drawn_ones() -> None:
    campaign = campaign_with_members(variants=(("A", 1),))
    ids = [product("One"), product("Two"), product("Three")]
    variant = campaign.variants.get()
    records = get_catalog().get_records(ids)
    first = carousel(campaign, variant, [records[i] for i in reversed(ids)])
    assert [c.product_id for c in first] == list(reversed(ids)) and {c.size for c in first} == {"square"}
    assert Creative.objects.filter(campaign=campaign).count() == 3
    again = carousel(campaign, variant, [records[ids[0]]])
    assert [c.pk for c in again] == [c.pk for c in first if c.product_id == ids[0]]
    assert carousel(campaign, variant, []) == []


def test_the_task_renders_by_slug_and_reports_an_unknown_one() -> None:
    from socialshop.tasks import render_ads as task

    campaign = campaign_with_members(variants=(("A", 1),))
    viewed(viewer(0), product("Shirt"))
    result = task.apply(args=[campaign.slug]).get()
    assert result["status"] == "ok" and result["rendered"] == 3
    assert task.apply(args=["missing-slug"]).get() == {"slug": "missing-slug", "status": "missing"}


def test_only_the_latest_runs_are_kept() -> None:
    from socialshop.campaigns.creatives.builder import RUNS_KEPT

    campaign = make_campaign(make_audience())
    for _ in range(RUNS_KEPT + 3):
        render_ads(campaign)
    runs = CreativeRun.objects.filter(campaign=campaign)
    assert runs.count() == RUNS_KEPT and all("no members yet" in r.message for r in runs)
