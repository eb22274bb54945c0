"""Customer photo uploads cannot serve a script or a location: the upload gets a random name with the
extension of its real format, waits outside public media until processed, and admin shows only the
processed picture. The attacker's scenario (a JPEG/HTML polyglot named evil.html) is the last test.
"""
from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from django.test import Client, RequestFactory
from django.urls import reverse
from django.views.static import serve
from PIL import Image

from socialshop.posts.images import process_post_image
from socialshop.posts.models import CustomerPhoto, ImageState, Moderation, Post
from socialshop.posts.storage import PRIVATE_PREFIX, private_storage

pytestmark = pytest.mark.django_db
URL = "/socialshop/posts/photos/new/"
SCRIPT = b"<html><body><script>alert(document.cookie)</script></body></html>"
GPS_IFD = 0x8825


def polyglot() -> bytes:
    """A valid JPEG whose comment segment is an HTML page, with GPS coordinates in its EXIF."""
    img = Image.new("RGB", (640, 480), (200, 80, 40))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[GPS_IFD] = {1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 36.0)}
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif, comment=SCRIPT)
    return out.getvalue()


def upload(client: Client, data: bytes, name: str = "evil.html", content_type: str = "text/html") -> Any:
    return client.post(URL, {
        "photo": SimpleUploadedFile(name, data, content_type=content_type), "caption": "My new shoes",
        "name": "Mallory", "email": "m@example.com", "rights": "on",
    })


def media_status(name: str, media_root: str) -> int:
    """What the demo's MEDIA_URL route (django.views.static.serve over MEDIA_ROOT) answers for ``name``."""
    try:
        serve(RequestFactory().get(f"/media/{name}"), name, document_root=media_root)
    except Http404:
        return 404
    return 200


def test_the_polyglot_really_is_both_a_jpeg_and_html_with_gps() -> None:
    data = polyglot()
    img = Image.open(io.BytesIO(data))
    assert img.format == "JPEG" and SCRIPT in data
    assert img.getexif().get_ifd(GPS_IFD)


def test_upload_is_stored_privately_under_a_random_name_with_the_real_extension(client: Client, settings: Any) -> None:
    assert upload(client, polyglot()).status_code == 201  # processing waits for the commit: not run here
    photo = CustomerPhoto.objects.get()
    name = photo.image.name
    assert name.startswith(PRIVATE_PREFIX) and name.endswith(".jpg")
    assert "evil" not in name and ".html" not in name
    assert re.fullmatch(r"socialshop/private/posts/\d{4}/\d{2}/[0-9a-f]{32}\.jpg", name)
    # Not in public media: not in default storage, not under MEDIA_ROOT, no URL at all.
    assert private_storage().exists(name) and not default_storage.exists(name)
    assert not Path(private_storage().path(name)).resolve().is_relative_to(Path(settings.MEDIA_ROOT).resolve())
    assert media_status(name, settings.MEDIA_ROOT) == 404
    with pytest.raises(ValueError, match="no public URL"):
        photo.image.url


@pytest.mark.parametrize(("fmt", "ext"), [("PNG", "png"), ("WEBP", "webp"), ("GIF", "gif")])
def test_the_stored_extension_follows_the_decoded_format_not_the_name(client: Client, fmt: str, ext: str) -> None:
    out = io.BytesIO()
    Image.new("RGB", (300, 300), (10, 120, 200)).save(out, fmt)
    assert upload(client, out.getvalue(), name="photo.jpg", content_type="image/jpeg").status_code == 201
    assert Post.objects.get().image.name.endswith(f".{ext}")


def test_processing_publishes_a_clean_copy_without_gps_and_removes_the_private_upload(client: Client, settings: Any) -> None:
    upload(client, polyglot())
    photo = CustomerPhoto.objects.get()
    raw = photo.image.name
    process_post_image(photo.pk)
    photo.refresh_from_db()
    assert photo.image_state == ImageState.READY
    assert not private_storage().exists(raw)
    assert default_storage.exists(photo.image.name) and photo.image.name.endswith(".jpg")
    files = [photo.image.name] + [r[k] for r in photo.renditions.values() for k in ("jpeg", "webp")]
    for name in files:
        with default_storage.open(name, "rb") as fh:
            data = fh.read()
        assert SCRIPT not in data and b"<script" not in data
        img = Image.open(io.BytesIO(data))
        assert not img.getexif().get_ifd(GPS_IFD) and not img.getexif()


@pytest.mark.parametrize(("name", "data", "message"), [
    ("x.svg", b"<?xml version='1.0'?><svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
     "SVG images are not accepted"),
    ("x.html", SCRIPT, "not a picture we can read"),
    ("x.jpg", b"%PDF-1.4\n" + b"0" * 200, "not a picture we can read"),
    ("x.png", b"", "empty"),
])
def test_svg_html_and_other_non_images_are_refused_with_a_clear_message(client: Client, name: str, data: bytes, message: str) -> None:
    response = upload(client, data, name=name)
    assert response.status_code == 200 and message in response.content.decode()
    assert not Post.objects.exists()


def _moderator() -> Client:
    user = get_user_model().objects.create_user("mod", password="pw", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(user)
    return client


def test_admin_change_pages_never_link_the_raw_upload(client: Client) -> None:
    upload(client, polyglot())
    photo = CustomerPhoto.objects.get()
    raw = photo.image.name.rsplit("/", 1)[-1]
    moderator = _moderator()
    for url in (reverse("admin:socialshop_customerphoto_change", args=[photo.pk]),
                reverse("admin:socialshop_post_change", args=[photo.pk]),
                reverse("admin:socialshop_customerphoto_changelist")):
        page = moderator.get(url).content.decode()
        assert raw not in page and "Currently:" not in page, url
    process_post_image(photo.pk)
    page = moderator.get(reverse("admin:socialshop_customerphoto_change", args=[photo.pk])).content.decode()
    photo.refresh_from_db()
    assert photo.renditions["square"]["jpeg"] in page  # the processed preview (square, as the list shows)
    assert raw not in page and "Currently:" not in page


def test_attacker_polyglot_changes_nothing_a_visitor_or_admin_sees(client: Client, settings: Any,
                                                                  django_capture_on_commit_callbacks: Any) -> None:
    """Mallory uploads evil.html (a JPEG whose comment is a script page with GPS in its EXIF)."""
    gallery_before = client.get("/socialshop/posts/").content
    with django_capture_on_commit_callbacks(execute=True):  # the demo processes right after the commit
        assert upload(client, polyglot()).status_code == 201
    photo = CustomerPhoto.objects.get()
    assert photo.moderation == Moderation.PENDING and photo.image_state == ImageState.READY
    # A visitor: the gallery is unchanged and the photo's page does not exist for them.
    assert client.get("/socialshop/posts/").content == gallery_before
    assert client.get(f"/socialshop/posts/{photo.slug}/").status_code == 404
    # An admin opening the moderation queue and the photo: every media file the pages point at is
    # an image with no script and no GPS, served under an image extension.
    moderator = _moderator()
    pages = [moderator.get(reverse("admin:socialshop_customerphoto_changelist")).content.decode(),
             moderator.get(reverse("admin:socialshop_customerphoto_change", args=[photo.pk])).content.decode()]
    media = sorted({m for page in pages for m in re.findall(r"/media/([^\"'\s<>]+)", page)})
    assert media, "the moderator sees the processed picture"
    for name in media:
        assert name.endswith((".jpg", ".webp")), name
        response = serve(RequestFactory().get(f"/media/{name}"), name, document_root=settings.MEDIA_ROOT)
        assert response["Content-Type"].startswith("image/")
        body = b"".join(response.streaming_content)
        assert b"<script" not in body and not Image.open(io.BytesIO(body)).getexif().get_ifd(GPS_IFD)
    # Nothing anywhere under public media holds the script.
    for path in Path(settings.MEDIA_ROOT).rglob("*"):
        assert not path.is_file() or SCRIPT not in path.read_bytes(), path
