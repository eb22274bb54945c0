"""Drawing ads: exact sizes, valid JPEG/PNG, text inside each size's safe area in every script, WCAG AA
contrast measured on the output's own pixels (over light, dark and busy photos), the placeholder for a
product without a picture, and what the ad says for awkward prices and discounts."""
from __future__ import annotations

import io
from decimal import Decimal

import pytest
from hypothesis import given, settings as hsettings, strategies as st
from PIL import Image, ImageDraw, ImageFilter

from socialshop.campaigns.creatives.content import AdText, ad_text
from socialshop.campaigns.creatives.render import SIZES, Colours, render_ad
from socialshop.campaigns.models import Campaign, IncentiveKind, Variant
from socialshop.catalog import ProductRecord
from tests.campaigns.test_creatives_text import TITLES

COLOURS = Colours((255, 255, 255), (17, 24, 39), (215, 38, 61))


def _words(title: str = "Linen summer dress", **changes: str) -> AdText:
    values = {"title": title, "price": "$32.50", "was": "$45.00", "badge": "10\u00a0% off",
              "headline": "Still thinking about it?", "cta": "Shop now"}
    values.update(changes)
    return AdText(**values)


def _photo(kind: str, size: tuple[int, int] = (800, 600)) -> Image.Image:
    if kind == "white":
        return Image.new("RGB", size, (255, 255, 255))
    if kind == "mid":
        return Image.new("RGB", size, (119, 119, 119))  # as far from white as from black text
    img = Image.new("RGB", size, (0, 0, 0))  # busy: fine black and white stripes everywhere
    pen = ImageDraw.Draw(img)
    for x in range(0, size[0], 6):
        pen.rectangle((x, 0, x + 2, size[1]), fill=(255, 255, 255))
    return img


def _lum(rgb: tuple[int, ...]) -> float:
    """WCAG 2.x relative luminance, written out again here so the test does not trust the code under test."""
    def lin(v: int) -> float:
        c = v / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    return 0.2126 * lin(rgb[0]) + 0.7152 * lin(rgb[1]) + 0.0722 * lin(rgb[2])


def _worst_contrast(image: Image.Image, placed) -> float:  # type: ignore[no-untyped-def]
    """The lowest contrast between the text colour and the output pixels 3 to 6 px around its glyphs."""
    crop = image.crop(placed.box)
    near = placed.mask.point(lambda v: 255 if v else 0).filter(ImageFilter.MaxFilter(13))
    core = placed.mask.point(lambda v: 255 if v else 0).filter(ImageFilter.MaxFilter(5))
    text = _lum(placed.colour)
    colours = {px for px, n, c in zip(crop.get_flattened_data(), near.get_flattened_data(), core.get_flattened_data()) if n and not c}
    assert colours, placed.name
    return min((max(text, _lum(px)) + 0.05) / (min(text, _lum(px)) + 0.05) for px in colours)


@pytest.mark.parametrize("spec", SIZES, ids=[s.name for s in SIZES])
@pytest.mark.parametrize("kind", ["white", "mid", "busy"])
def test_text_meets_wcag_aa_against_the_pixels_behind_it(spec, kind) -> None:  # type: ignore[no-untyped-def]
    ad = render_ad(_words(), spec, photo=_photo(kind), logo=None, colours=COLOURS)
    assert {t.name for t in ad.texts} == {"headline", "title", "price", "was", "cta", "badge"}
    for placed in ad.texts:
        need = 3.0 if placed.size >= 48 else 4.5
        assert _worst_contrast(ad.image, placed) >= need, (spec.name, kind, placed.name, placed.size)


def test_a_busy_photo_gets_a_scrim_and_a_plain_one_none() -> None:
    square = SIZES[0]
    busy = render_ad(_words(), square, photo=_photo("busy"), logo=None, colours=COLOURS)
    title = next(t for t in busy.texts if t.name == "title")
    # Under the scrim the white stripes are darkened; above the text stack they are still white.
    assert max(busy.image.crop((title.box[0], title.box[1], title.box[2], title.box[1] + 4)).get_flattened_data())[0] < 200
    assert max(busy.image.crop((100, 300, 400, 304)).get_flattened_data())[0] == 255
    white = render_ad(_words(), square, photo=_photo("white"), logo=None, colours=COLOURS)
    assert next(t for t in white.texts if t.name == "title").colour != (255, 255, 255)


@pytest.mark.parametrize("spec", SIZES, ids=[s.name for s in SIZES])
@pytest.mark.parametrize("script", sorted(TITLES) + ["mixed", "long"])
def test_every_script_stays_inside_the_safe_area_at_exact_size(spec, script) -> None:  # type: ignore[no-untyped-def]
    title = {"mixed": "Nike Air — кроссовки Ελλάδα 日本 عربي שלום", "long": "x" * 40 + " " + "Wide title " * 30}.get(
        script) or TITLES[script]
    ad = render_ad(_words(title[:300]), spec, photo=_photo("mid"), logo=None, colours=COLOURS)
    assert ad.image.size == (spec.width, spec.height)
    left, top, right, bottom = spec.safe
    for placed in ad.texts:
        ink = placed.ink
        assert ink is not None, placed.name
        assert left <= ink[0] and top <= ink[1] and ink[2] <= right and ink[3] <= bottom, (placed.name, ink, spec.safe)
    title_block = next(t for t in ad.texts if t.name == "title")
    assert title_block.rtl == (script in ("arabic", "hebrew"))
    if script in ("arabic", "hebrew"):  # right to left: flush with the column's right edge
        assert title_block.ink[2] >= spec.column[2] - 10
    if script == "long":
        assert title_block.truncated


def test_an_ad_without_a_photo_draws_the_placeholder() -> None:
    ad = render_ad(_words(), SIZES[0], photo=None, logo=None, colours=COLOURS)
    assert ad.placeholder
    # The placeholder is a light grey gradient with an outline, not a blank canvas.
    top_band = ad.image.crop((0, 300, 1080, 500)).convert("L")
    low, high = top_band.getextrema()
    assert 120 <= low < high <= 235


def test_the_logo_keeps_its_shape_on_a_white_plate() -> None:
    logo = Image.new("RGBA", (400, 100), (0, 0, 0, 0))
    ImageDraw.Draw(logo).ellipse((0, 0, 100, 100), fill=(200, 0, 0, 255))
    ad = render_ad(_words(), SIZES[0], photo=_photo("busy"), logo=logo, colours=COLOURS)
    left, top, right, bottom = SIZES[0].logo
    plate = ad.image.crop((left, top, right, bottom))
    assert (255, 255, 255) in {px for px in plate.get_flattened_data()} and any(r > 150 and g < 60 for r, g, b in plate.get_flattened_data())


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_output_encodes_as_a_valid_image_of_the_exact_size(fmt: str) -> None:
    for spec in SIZES:
        ad = render_ad(_words(), spec, photo=_photo("mid"), logo=None, colours=COLOURS)
        out = io.BytesIO()
        ad.image.save(out, fmt)
        again = Image.open(io.BytesIO(out.getvalue()))
        again.verify()
        assert again.format == fmt and again.size == (spec.width, spec.height)


# --- what the ad says -------------------------------------------------------------------------------

def _campaign(kind: str = IncentiveKind.PERCENT, amount: str = "10", currency: str = "") -> Campaign:
    return Campaign(slug="c", name="c", incentive_kind=kind, incentive_amount=Decimal(amount), incentive_currency=currency)


def _record(price: str | None, sale: str | None = None, title: str = "Shirt") -> ProductRecord:
    return ProductRecord(id="p1", title=title, url="/p/1/", price=None if price is None else Decimal(price), currency="USD",
                         sale_price=None if sale is None else Decimal(sale))


VARIANT = Variant(name="A", headline="Back in stock", body="Get yours\nsecond line")


def test_sale_price_with_the_regular_price_struck_and_a_percent_badge() -> None:
    words = ad_text(_campaign(), VARIANT, _record("45.00", "32.50"), locale="en-us")
    assert (words.price, words.was, words.badge, words.cta, words.headline) == (
        "$32.50", "$45.00", "10\u00a0% off", "Get yours", "Back in stock")


def test_a_price_of_zero_says_free_and_gets_no_badge() -> None:
    words = ad_text(_campaign(), VARIANT, _record("0"), locale="en-us")
    assert words.price == "Free" and words.was == "" and words.badge == ""
    ad = render_ad(words, SIZES[0], photo=None, logo=None, colours=COLOURS)
    assert "badge" not in {t.name for t in ad.texts}


def test_a_discount_larger_than_the_price_never_goes_negative() -> None:
    words = ad_text(_campaign(IncentiveKind.FIXED, "50"), VARIANT, _record("20.00"), locale="en-us")
    assert words.badge == "$20.00 off" and "-" not in words.price + words.badge
    assert ad_text(_campaign(IncentiveKind.PERCENT, "150"), VARIANT, _record("20.00"), locale="en-us").badge == "100\u00a0% off"
    # A "sale price" above the regular price, or below zero, is ignored rather than shown.
    assert ad_text(_campaign(), VARIANT, _record("20.00", "25.00"), locale="en-us").was == ""
    odd = ad_text(_campaign(), VARIANT, _record("20.00", "-5.00"), locale="en-us")
    assert (odd.price, odd.was) == ("$20.00", "")
    assert ad_text(_campaign(), VARIANT, _record("-3.00"), locale="en-us").price == ""


def test_no_incentive_or_a_variant_without_one_draws_no_badge() -> None:
    assert ad_text(_campaign(IncentiveKind.NONE, "0"), VARIANT, _record("20"), locale="en-us").badge == ""
    never = Variant(name="B", incentive_from_message=None)
    words = ad_text(_campaign(), never, _record("20"), locale="en-us")
    assert words.badge == "" and words.cta == "Shop now"
    assert ad_text(_campaign(IncentiveKind.FREE_SHIPPING, "0"), VARIANT, _record("20"), locale="en-us").badge == "Free shipping"


def test_money_follows_the_locale() -> None:
    words = ad_text(_campaign(IncentiveKind.PERCENT, "12.5"), VARIANT, _record("1234.50")._replace(currency="EUR"),
                    locale="de-de")
    assert words.price == "1.234,50\u00a0€" and words.badge.startswith("12,5")


_RGB = st.tuples(st.integers(0, 255), st.integers(0, 255), st.integers(0, 255))


@hsettings(max_examples=150, deadline=None)
@given(pixels=st.lists(_RGB, min_size=1, max_size=36), size_px=st.sampled_from([20, 36, 48, 80]))
def test_the_chosen_colour_and_scrim_meet_aa_for_any_background(pixels: list[tuple[int, int, int]], size_px: int) -> None:
    from socialshop.campaigns.creatives.contrast import choose

    region = Image.new("RGB", (len(pixels), 1))
    region.putdata(pixels)
    choice = choose(region, size_px=size_px)
    shown = choice.scrimmed if choice.scrimmed is not None else region
    text = _lum(choice.colour)
    worst = min((max(text, _lum(px)) + 0.05) / (min(text, _lum(px)) + 0.05) for px in shown.get_flattened_data())
    assert worst >= (3.0 if size_px >= 48 else 4.5), (choice, worst)
