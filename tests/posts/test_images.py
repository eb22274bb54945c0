"""Post image processing: hostile files refused with a clear message, clean renditions that keep tags inside."""
from __future__ import annotations

import io
import struct
import zlib

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from PIL import ExifTags, Image, ImageCms

from socialshop.core.jobs import run_task
from socialshop.core.images import ImageRejected, open_checked, to_srgb, validate_upload
from socialshop.posts.images import RENDITIONS, choose_box, position_in, process_post_image
from socialshop.posts.models import ImageState, Post, ProductTag
from tests.posts.conftest import picture

pytestmark = pytest.mark.django_db


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_with_header(width: int, height: int, *, idat: bytes = b"") -> bytes:
    """A PNG that declares width x height; its pixel data is not needed to be refused."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat or zlib.compress(b"\0" * 1024))
            + png_chunk(b"IEND", b""))


def refused(data: bytes) -> str:
    with pytest.raises(ImageRejected) as info:
        validate_upload(io.BytesIO(data))
    return str(info.value)


def test_decompression_bomb_png_50000_square_is_refused_before_decoding() -> None:
    assert "too many pixels" in refused(png_with_header(50_000, 50_000))


def test_truncated_jpeg_is_refused() -> None:
    data = picture()
    assert "truncated" in refused(data[: len(data) // 2])


def test_text_file_named_jpg_is_refused() -> None:
    upload = ContentFile(b"just some text, not a picture\n" * 20, name="holiday.jpg")
    with pytest.raises(ImageRejected, match="not a picture we can read"):
        validate_upload(upload)


def test_svg_is_refused_as_svg() -> None:
    svg = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    assert "SVG images are not accepted" in refused(svg)


def test_animated_gif_is_refused() -> None:
    frames = [Image.new("RGB", (64, 64), color) for color in ((255, 0, 0), (0, 0, 255))]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    assert "Animated images are not accepted" in refused(out.getvalue())


def test_still_gif_is_accepted() -> None:
    assert validate_upload(io.BytesIO(picture((64, 48), fmt="GIF"))) == (64, 48)


def test_zero_by_zero_image_is_refused() -> None:
    assert "no pixels (0x0)" in refused(png_with_header(0, 0))


def test_empty_file_is_refused() -> None:
    assert "empty" in refused(b"")


def test_file_over_the_upload_limit_is_refused() -> None:
    with pytest.raises(ImageRejected, match="larger than"):
        validate_upload(io.BytesIO(picture()), limit=1000)


def test_cmyk_jpeg_is_converted_to_srgb_not_refused() -> None:
    data = picture((120, 80), mode="CMYK", color=(0, 255, 255, 0))  # pure process red in CMYK
    img = to_srgb(open_checked(data))
    assert img.mode == "RGB"
    red, green, blue = img.getpixel((60, 40))
    assert red > 200 and green < 60 and blue < 60


def test_16_bit_greyscale_png_is_scaled_to_8_bits_not_clipped() -> None:
    ramp = Image.new("I;16", (256, 4))
    ramp.putdata([x * 257 for _ in range(4) for x in range(256)])
    out = io.BytesIO()
    ramp.save(out, "PNG")
    img = to_srgb(open_checked(out.getvalue()))
    assert img.mode == "RGB"
    assert img.getpixel((0, 0)) == (0, 0, 0)
    assert abs(img.getpixel((128, 0))[0] - 128) <= 1  # a plain convert("L") would give 255 here
    assert img.getpixel((255, 0)) == (255, 255, 255)


def test_embedded_icc_profile_is_converted_to_srgb() -> None:
    lab = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
    data = picture((40, 40), fmt="PNG", icc_profile=lab.tobytes())
    img = to_srgb(open_checked(data))
    assert img.mode == "RGB" and "icc_profile" not in img.info


def test_exif_orientation_is_applied_and_gps_metadata_stripped(make_post) -> None:  # type: ignore[no-untyped-def]
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # rotate 90° clockwise to display
    exif[ExifTags.Base.Make] = "PhoneCam"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (52.0, 13.0, 26.0)
    data = picture((1200, 900), exif=exif.tobytes())
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(ExifTags.IFD.GPSInfo)
    post = make_post(data=data)
    assert (post.width, post.height) == (900, 1200)
    files = [post.image.name] + [entry[fmt] for entry in post.renditions.values() for fmt in ("jpeg", "webp")]
    for name in files:
        with default_storage.open(name, "rb") as fh:
            raw = fh.read()
        img = Image.open(io.BytesIO(raw))
        assert not img.getexif(), name
        assert b"PhoneCam" not in raw and "exif" not in img.info and "icc_profile" not in img.info


def test_processing_writes_every_rendition_in_webp_and_jpeg_at_its_size(make_post, products) -> None:  # type: ignore[no-untyped-def]
    post = make_post([(products[0], 0.2, 0.3)])
    assert post.image_state == ImageState.READY
    assert set(post.renditions) == {spec.name for spec in RENDITIONS}
    for spec in RENDITIONS:
        entry = post.renditions[spec.name]
        for fmt, pil_format in (("jpeg", "JPEG"), ("webp", "WEBP")):
            with default_storage.open(entry[fmt], "rb") as fh:
                img = Image.open(fh)
                assert img.format == pil_format and img.size == (spec.width, spec.height) and img.mode == "RGB"


@pytest.mark.parametrize("points", [
    [(0.02, 0.03)], [(0.98, 0.97)], [(0.05, 0.5), (0.95, 0.5)], [(0.5, 0.02), (0.5, 0.98)], [(0.0, 0.0), (1.0, 1.0)],
])
@pytest.mark.parametrize("size", [(4000, 1000), (1000, 4000), (1200, 900), (500, 500)])
def test_every_rendition_crop_keeps_every_tag_inside(points: list[tuple[float, float]], size: tuple[int, int]) -> None:
    for spec in RENDITIONS:
        box = choose_box(size[0], size[1], (spec.width, spec.height), points)
        left, top, right, bottom = box
        assert abs((right - left) / (bottom - top) - spec.width / spec.height) < 1e-6
        for x, y in points:
            fx, fy = position_in(box, size[0], size[1], x, y)
            assert 0 <= fx <= 1 and 0 <= fy <= 1, (spec.name, x, y, fx, fy)


def test_tag_position_in_rendition_points_at_the_same_pixel(make_post, products) -> None:  # type: ignore[no-untyped-def]
    data = picture((1600, 800))  # dark square covers x < 400, y < 200 of the master
    post = make_post([(products[0], 0.1, 0.1), (products[1], 0.6, 0.6)], data=data)
    for name, entry in post.renditions.items():
        fx, fy = position_in(entry["box"], post.width, post.height, 0.1, 0.1)
        with default_storage.open(entry["jpeg"], "rb") as fh:
            img = Image.open(fh).convert("RGB")
            pixel = img.getpixel((int(fx * (img.width - 1)), int(fy * (img.height - 1))))
        assert max(pixel) < 60, (name, pixel)  # the tag still sits on the dark square


def test_processing_twice_is_idempotent_and_leaves_no_stray_files(make_post, products) -> None:  # type: ignore[no-untyped-def]
    post = make_post([(products[0], 0.5, 0.5)])
    first = (post.image.name, post.renditions)
    process_post_image(post.pk)
    post.refresh_from_db()
    assert (post.image.name, post.renditions) == first
    folder = f"socialshop/posts/{post.pk}"
    _, names = default_storage.listdir(folder)
    assert len(names) == 1 + 2 * len(RENDITIONS)


def test_moving_a_tag_recuts_renditions_and_removes_old_files(make_post, products) -> None:  # type: ignore[no-untyped-def]
    post = make_post([(products[0], 0.05, 0.5)])
    old = {entry["jpeg"] for entry in post.renditions.values()}
    ProductTag.objects.filter(post=post).update(x=0.95)
    process_post_image(post.pk)
    post.refresh_from_db()
    assert old.isdisjoint({entry["jpeg"] for entry in post.renditions.values()})
    assert not any(default_storage.exists(name) for name in old)


def test_hostile_upload_marks_post_failed_with_the_reason(make_post) -> None:  # type: ignore[no-untyped-def]
    post = make_post(data=b"<svg xmlns='http://www.w3.org/2000/svg'/>")
    assert post.image_state == ImageState.FAILED
    assert "SVG" in post.image_error
    assert not post.renditions


def test_celery_task_processes_the_image(make_post, products) -> None:  # type: ignore[no-untyped-def]
    from socialshop.tasks import process_post_image as task

    post = make_post([(products[0], 0.5, 0.5)], process=False)
    result = run_task(task, post.pk)
    assert result.get()["state"] == ImageState.READY
    post.refresh_from_db()
    assert post.image_state == ImageState.READY and post.image.name.startswith(f"socialshop/posts/{post.pk}/master-")


@pytest.mark.parametrize(("x", "y"), [(1.5, 0.5), (-0.1, 0.5), (0.5, 2.0), (0.5, -3.0)])
def test_tag_position_outside_the_picture_is_refused_by_the_database(make_post, products, x: float, y: float) -> None:  # type: ignore[no-untyped-def]
    post = make_post(process=False)
    with pytest.raises(IntegrityError), transaction.atomic():
        ProductTag.objects.create(post=post, product_id=str(products[0].pk), x=x, y=y)


def test_tag_position_outside_the_picture_fails_validation_with_a_message(products) -> None:  # type: ignore[no-untyped-def]
    from django.core.exceptions import ValidationError

    tag = ProductTag(product_id=str(products[0].pk), x=1.2, y=0.5)
    with pytest.raises(ValidationError, match="outside the picture"):
        tag.clean()


def test_post_without_tags_is_centre_cropped() -> None:
    box = choose_box(2000, 1000, (1080, 1080), [])
    assert box == (500.0, 0.0, 1500.0, 1000.0)


def test_post_model_picks_hashtags_and_mentions(make_post) -> None:  # type: ignore[no-untyped-def]
    post = make_post(caption="Sunny day with @anna.b #Linen #summer #linen", process=False)
    assert post.hashtag_list == ["linen", "summer"] and post.mentions == ["anna.b"]
    assert Post.objects.filter(hashtags__contains=" summer ").exists()


def test_replacing_the_picture_removes_the_old_master_and_renditions(make_post, products) -> None:  # type: ignore[no-untyped-def]
    post = make_post([(products[0], 0.5, 0.5)])
    old_master = post.image.name
    post.image.save("second.jpg", ContentFile(picture((900, 1200), color=(10, 90, 200))), save=True)
    process_post_image(post.pk)
    post.refresh_from_db()
    assert post.image.name != old_master and not default_storage.exists(old_master)
    _, names = default_storage.listdir(f"socialshop/posts/{post.pk}")
    assert len(names) == 1 + 2 * len(RENDITIONS)
    assert (post.width, post.height) == (900, 1200)


def test_task_for_a_deleted_post_does_nothing() -> None:
    assert process_post_image(987654)["state"] == "gone"


def test_deleting_a_post_deletes_its_files(make_post, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    post = make_post()
    files = [post.image.name] + [entry["jpeg"] for entry in post.renditions.values()]
    with django_capture_on_commit_callbacks(execute=True):
        post.delete()
    assert not any(default_storage.exists(name) for name in files)
