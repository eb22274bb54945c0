"""Serving feeds: token check, 404s alike, ETag/Last-Modified 304s, gzip, never building on request."""
from __future__ import annotations

import gzip

import pytest
from django.utils.http import http_date

from socialshop.feeds.builder import build_feed
from socialshop.feeds.models import FeedBuild
from tests.feeds.conftest import make_feed, make_product

pytestmark = pytest.mark.django_db


@pytest.fixture
def live_feed(feed_storage_dir):  # type: ignore[no-untyped-def]
    make_product(name="Served mug")
    feed = make_feed("google", "xml")
    build_feed(feed)
    feed.refresh_from_db()
    return feed


def _get(client, feed, **headers):  # type: ignore[no-untyped-def]
    return client.get(f"/socialshop/feeds/{feed.slug}.{feed.file_format}", {"token": feed.token}, **headers)


def test_the_right_token_gets_the_live_file_with_validators(client, live_feed):
    response = _get(client, live_feed)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml; charset=utf-8"
    assert response["ETag"] == f'"{live_feed.published_build.content_hash}"'
    assert response["Last-Modified"] == http_date(int(live_feed.published_build.finished_at.timestamp()))
    assert int(response["Content-Length"]) == live_feed.published_build.size_bytes
    assert b"Served mug" in b"".join(response.streaming_content)


@pytest.mark.parametrize("case", ["wrong token", "no token", "unknown slug", "other format", "disabled"])
def test_every_bad_request_gets_the_same_404(client, live_feed, case):
    path, params = f"/socialshop/feeds/{live_feed.slug}.xml", {"token": live_feed.token}
    if case == "wrong token":
        params = {"token": live_feed.token + "x"}
    elif case == "no token":
        params = {}
    elif case == "unknown slug":
        path = "/socialshop/feeds/nope.xml"
    elif case == "other format":
        path = f"/socialshop/feeds/{live_feed.slug}.csv"
    else:
        live_feed.enabled = False
        live_feed.save()

    response = client.get(path, params)

    assert response.status_code == 404
    assert b"Served mug" not in response.content


def test_if_none_match_and_if_modified_since_give_304(client, live_feed):
    first = _get(client, live_feed)

    by_etag = _get(client, live_feed, HTTP_IF_NONE_MATCH=first["ETag"])
    by_date = _get(client, live_feed, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])

    assert by_etag.status_code == 304 and by_etag["ETag"] == first["ETag"]
    assert by_date.status_code == 304
    assert _get(client, live_feed, HTTP_IF_NONE_MATCH='"other"').status_code == 200


def test_gzip_when_asked_and_plain_when_not(client, live_feed):
    plain = b"".join(_get(client, live_feed).streaming_content)

    zipped = _get(client, live_feed, HTTP_ACCEPT_ENCODING="br, gzip;q=0.8")
    refused = _get(client, live_feed, HTTP_ACCEPT_ENCODING="gzip;q=0")

    assert zipped["Content-Encoding"] == "gzip"
    assert zipped["Vary"] == "Accept-Encoding"
    assert zipped["ETag"].endswith('-gz"')
    assert gzip.decompress(b"".join(zipped.streaming_content)) == plain
    assert "Content-Encoding" not in refused


def test_a_feed_never_built_is_404_and_a_request_does_not_build_it(client, feed_storage_dir):
    make_product()
    feed = make_feed("meta", "csv")

    response = _get(client, feed)

    assert response.status_code == 404
    assert not FeedBuild.objects.exists()


def test_a_rebuild_with_new_content_changes_the_etag(client, live_feed):
    before = _get(client, live_feed)["ETag"]
    make_product(name="Another")
    build_feed(live_feed)

    after = _get(client, live_feed)

    assert after["ETag"] != before
    assert b"Another" in b"".join(after.streaming_content)


def test_changing_the_format_hides_the_old_file_until_the_next_build(client, live_feed):
    live_feed.file_format = "tsv"
    live_feed.save()

    assert _get(client, live_feed).status_code == 404
    build_feed(live_feed)
    response = _get(client, live_feed)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/tab-separated-values; charset=utf-8"
