"""Ad creative throughput at 1080x1080: socialshop's renderer vs a bare Pillow open-resize-save of the same
product images, in the same run.

Ours checks and cleans the photo (core/images.py), cover-fits it, sets the headline, title, prices, badge and
button in the title's script (Latin, Cyrillic, Greek, Arabic, Hebrew, Devanagari, Thai, CJK in turn), checks
WCAG contrast against the pixels behind the text (with a scrim when needed), and encodes a JPEG. The bare side
opens, resizes to 1080x1080 and saves a JPEG. Fonts are loaded once per process (lru_cache), as in a worker.
Run: python bench/creatives.py [--images 24] [--rounds 3]. Last line: the ratio (target >= 0.5).
"""
from __future__ import annotations

import argparse
import io
import os
import random
import sys
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/harness.py
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from PIL import Image, ImageDraw, ImageFilter  # noqa: E402

from socialshop.campaigns.creatives.builder import encode_creative  # noqa: E402
from socialshop.campaigns.creatives.content import ad_text  # noqa: E402
from socialshop.campaigns.creatives.render import Colours, render_ad, size_named  # noqa: E402
from socialshop.campaigns.creatives.sources import decode  # noqa: E402
from socialshop.campaigns.models import Campaign, IncentiveKind, Variant  # noqa: E402
from socialshop.catalog import ProductRecord  # noqa: E402
from harness import best_of_alternating  # noqa: E402

TITLES = (
    "Linen summer dress with deep pockets", "Льняное летнее платье с карманами", "Λινό καλοκαιρινό φόρεμα με τσέπες",
    "فستان صيفي من الكتان مع جيوب عميقة", "שמלת קיץ מפשתן עם כיסים עמוקים", "जेबों वाली लिनन गर्मियों की पोशाक",
    "ชุดเดรสผ้าลินินฤดูร้อนพร้อมกระเป๋าลึก", "带口袋的亚麻夏季连衣裙舒适透气", "ポケット付きリネンのサマードレス",
    "주머니가 있는 린넨 여름 드레스",
)
COLOURS = Colours((255, 255, 255), (17, 24, 39), (215, 38, 61))


def make_images(count: int, size: tuple[int, int]) -> list[bytes]:
    """Deterministic photo-like product JPEGs (as the demo store's 800x800 pictures)."""
    rng = random.Random(7)
    out = []
    for _ in range(count):
        img = Image.new("RGB", size, tuple(rng.randint(120, 240) for _ in range(3)))
        draw = ImageDraw.Draw(img)
        for _ in range(40):
            x, y, r = rng.randint(0, size[0]), rng.randint(0, size[1]), rng.randint(10, size[0] // 5)
            draw.ellipse([x - r, y - r, x + r, y + r], fill=tuple(rng.randint(0, 255) for _ in range(3)))
        buf = io.BytesIO()
        img.filter(ImageFilter.GaussianBlur(2)).save(buf, "JPEG", quality=90)
        out.append(buf.getvalue())
    return out


def records(count: int) -> list[ProductRecord]:
    return [ProductRecord(id=f"p{i}", title=f"{TITLES[i % len(TITLES)]} {i}", url=f"/p/{i}/", price=Decimal("45.00") + i,
                          sale_price=Decimal("32.50") + i if i % 2 else None, currency="USD") for i in range(count)]


def ours(images: list[bytes], products: list[ProductRecord]) -> int:
    campaign = Campaign(slug="bench", name="bench", incentive_kind=IncentiveKind.PERCENT, incentive_amount=Decimal("10"))
    variant = Variant(name="A", headline="Still thinking about it?", body="Shop now")
    square = size_named("square")
    for data, record in zip(images, products):
        words = ad_text(campaign, variant, record, locale="en-us")
        ad = render_ad(words, square, photo=decode(data), logo=None, colours=COLOURS)
        encode_creative(ad.image)
    return len(images)


def bare(images: list[bytes], products: list[ProductRecord]) -> int:
    for data in images:
        img = Image.open(io.BytesIO(data))
        img.load()
        img.resize((1080, 1080), Image.Resampling.LANCZOS).save(io.BytesIO(), "JPEG", quality=88)
    return len(images)



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=24, help="product images (default 24)")
    parser.add_argument("--size", default="800x800", help="source size WxH (default 800x800, as the demo's)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per side; best is kept (default 3)")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.lower().split("x"))
    print(f"making {args.images} product JPEGs of {width}x{height}")
    images, products = make_images(args.images, (width, height)), records(args.images)
    # Warm up: codecs on both sides, and each script's font once (a worker keeps them loaded).
    bare(images[:1], products[:1])
    ours(images[: len(TITLES)], records(len(TITLES)))
    (bare_n, bare_s), (our_n, our_s) = best_of_alternating(bare, ours, images, products, rounds=args.rounds)
    bare_rate, our_rate = bare_n / bare_s, our_n / our_s
    print(f"bare Pillow open-resize-save 1080x1080: {bare_n} in {bare_s:.2f}s = {bare_rate:.1f}/s")
    print(f"socialshop creatives 1080x1080:         {our_n} in {our_s:.2f}s = {our_rate:.1f}/s")
    print(f"ratio socialshop/bare creatives per second at 1080x1080: {our_rate / bare_rate:.2f} (target >= 0.5)")


if __name__ == "__main__":
    main()
