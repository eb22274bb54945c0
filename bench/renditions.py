"""Rendition throughput: socialshop's post image pipeline vs a bare Pillow open-resize-save.

Both sides read the same JPEGs and write the same number of files (4 sizes x JPEG + WebP per image):
ours also checks the file, applies EXIF orientation, converts to sRGB, strips metadata and cuts
tag-aware crops. Run: python bench/renditions.py [--images 12] [--size 2400x1600] [--rounds 2]. Last line: the ratio.
"""
from __future__ import annotations

import argparse
import io
import os
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/harness.py
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from PIL import Image, ImageDraw, ImageFilter  # noqa: E402

from socialshop.core.images import encode, open_checked, to_srgb  # noqa: E402
from socialshop.posts.images import RENDITIONS, build_renditions  # noqa: E402
from harness import best_of_alternating  # noqa: E402


def make_images(count: int, size: tuple[int, int]) -> list[bytes]:
    """Deterministic photo-like JPEGs (shapes, gradients, blur) with an EXIF orientation tag."""
    rng = random.Random(5)
    out = []
    for _ in range(count):
        img = Image.new("RGB", size, tuple(rng.randint(80, 200) for _ in range(3)))
        draw = ImageDraw.Draw(img)
        for _ in range(60):
            x, y = rng.randint(0, size[0]), rng.randint(0, size[1])
            r = rng.randint(20, size[0] // 6)
            draw.ellipse([x - r, y - r, x + r, y + r], fill=tuple(rng.randint(0, 255) for _ in range(3)))
        img = img.filter(ImageFilter.GaussianBlur(3))
        exif = Image.Exif()
        exif[0x0112] = 1
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=90, exif=exif.tobytes())
        out.append(buf.getvalue())
    return out


def ours(images: list[bytes]) -> int:
    files = 0
    rng = random.Random(9)
    for data in images:
        img = to_srgb(open_checked(data))
        points = [(rng.random(), rng.random()) for _ in range(rng.randint(2, 5))]
        for picture, _box in build_renditions(img, points).values():
            encode(picture, "JPEG")
            encode(picture, "WEBP")
            files += 2
    return files


def bare(images: list[bytes]) -> int:
    files = 0
    for data in images:
        img = Image.open(io.BytesIO(data))
        img.load()
        for spec in RENDITIONS:
            small = img.resize((spec.width, spec.height), Image.Resampling.LANCZOS)
            small.save(io.BytesIO(), "JPEG", quality=85)
            small.save(io.BytesIO(), "WEBP", quality=80)
            files += 2
    return files



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=12, help="how many source images (default 12)")
    parser.add_argument("--size", default="2400x1600", help="source size WxH (default 2400x1600)")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds per side; best is kept (default 2)")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.lower().split("x"))
    print(f"making {args.images} source JPEGs of {width}x{height}")
    images = make_images(args.images, (width, height))
    bare(images[:1])  # warm up codecs on both sides
    ours(images[:1])
    (bare_files, bare_seconds), (our_files, our_seconds) = best_of_alternating(bare, ours, images, rounds=args.rounds)
    bare_rate, our_rate = bare_files / bare_seconds, our_files / our_seconds
    print(f"bare Pillow open-resize-save: {bare_files} files in {bare_seconds:.2f}s = {bare_rate:.1f} renditions/s")
    print(f"socialshop pipeline:          {our_files} files in {our_seconds:.2f}s = {our_rate:.1f} renditions/s")
    print(f"ratio socialshop/bare renditions per second: {our_rate / bare_rate:.2f}")


if __name__ == "__main__":
    main()
