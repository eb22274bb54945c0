"""Where an ad's pictures come from: this store's media through the storage API, other hosts over real HTTP
(a local server), with refusals explained; and the creative settings are checked by ``manage.py check``."""
from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image

from socialshop.campaigns.creatives.sources import media_name, product_photo


def _jpeg(size: tuple[int, int] = (640, 480)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 200, 30)).save(out, "JPEG")
    return out.getvalue()


FILES = {"/ok.jpg": (200, "image/jpeg", _jpeg()), "/page.html": (200, "text/html", b"<html>not a picture</html>"),
         "/vector.svg": (200, "image/svg+xml", b'<svg xmlns="http://www.w3.org/2000/svg"/>')}


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        status, kind, body = FILES.get(self.path, (404, "text/plain", b"missing"))
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_a_product_image_on_another_host_is_fetched_over_http(server: str) -> None:
    photo, why = product_photo((f"{server}/ok.jpg",))
    assert why == "" and photo is not None and photo.size == (640, 480) and photo.mode == "RGB"


def test_unusable_urls_fall_back_to_the_next_then_to_the_placeholder_with_the_reason(server: str) -> None:
    photo, why = product_photo((f"{server}/missing.jpg", f"{server}/ok.jpg"))
    assert photo is not None and why == ""
    for url, words in ((f"{server}/missing.jpg", "could not be fetched"), (f"{server}/page.html", "not a picture"),
                       (f"{server}/vector.svg", "SVG"), ("file:///etc/passwd", "not an http(s) URL"),
                       ("http://127.0.0.1:9/nothing.jpg", "could not be fetched")):
        photo, why = product_photo((url,))
        assert photo is None and words in why, (url, why)
    assert product_photo(()) == (None, "no image")


@pytest.mark.django_db
def test_images_under_media_url_are_read_from_storage_not_http(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    name = default_storage.save("products/local.jpg", ContentFile(_jpeg((300, 200))))
    assert media_name(f"http://testserver/media/{name}") == name
    assert media_name(f"/media/{name}") == name
    assert media_name("http://elsewhere.example/media/x.jpg") is None
    assert media_name("http://testserver/media/../secret") is None
    photo, why = product_photo((f"http://testserver/media/{name}",))  # testserver does not exist: storage it is
    assert why == "" and photo is not None and photo.size == (300, 200)


@pytest.mark.parametrize("key, value", [
    ("CREATIVE_FORMAT", "GIF"), ("CREATIVE_PRODUCTS", 0), ("CREATIVE_COLORS", {"badge": "red"}),
    ("CREATIVE_COLORS", {"border": "#000000"}), ("CREATIVE_FONT_DIRS", []), ("BRAND_LOGO", None),
])
def test_wrong_creative_settings_fail_the_system_check_naming_the_key(settings: Any, key: str, value: Any) -> None:
    from socialshop.checks import check_settings

    settings.SOCIALSHOP = {**settings.SOCIALSHOP, key: value}
    errors = [e for e in check_settings() if key in e.msg]
    assert errors and errors[0].id == "socialshop.E007" and repr(value) in errors[0].msg


def test_an_image_larger_than_the_limit_is_refused_without_reading_it_all(server: str, monkeypatch: Any) -> None:
    from socialshop.campaigns.creatives import sources

    monkeypatch.setattr(sources, "MAX_BYTES", 1000)
    photo, why = product_photo((f"{server}/ok.jpg",))
    assert photo is None and "larger than" in why
