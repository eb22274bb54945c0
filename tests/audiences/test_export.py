"""The hashed audience export (issue #14): staff with ``socialshop.export_audience`` only, 404 for an
unknown audience or platform, one platform's upload columns, SHA-256 hex values only, shareable
members only."""
from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from socialshop.audiences.builder import build_audience
from socialshop.audiences.export import export_capability, export_columns
from socialshop.audiences.lists import import_list
from socialshop.audiences.models import Audience, BuildStatus, RuleKind
from socialshop.platforms import REGISTRY
from socialshop.platforms.hashing import HEX64_RE, sha256_hex
from socialshop.privacy.models import ConsentChoice, ConsentRecord
from socialshop.tracking.models import Event

pytestmark = pytest.mark.django_db

AUDIENCE_PLATFORMS = [slug for slug, cls in REGISTRY.items() if cls.supports("audiences")]
OTHER_PLATFORMS = [slug for slug, cls in REGISTRY.items() if not cls.supports("audiences")]
LIST = ("email,phone,country\nAnn@Example.com,(650) 555-1212,US\nbob@example.com,,US\n"
        ",+44 20 7946 0018,GB\nJohn.Smith+x@gmail.com,,\n")


@pytest.fixture
def vip() -> Audience:
    audience = Audience.objects.create(name="VIP", slug="vip", kind=RuleKind.CUSTOMER_LIST)
    import_list(audience, io.BytesIO(LIST.encode()), mapping={"email": 0, "phone": 1, "country": 2})
    assert build_audience(audience).status == BuildStatus.SUCCEEDED
    return audience


def staff(*, perm: bool = True, is_staff: bool = True) -> Client:
    user = get_user_model().objects.create_user(username=f"staff-{perm}-{is_staff}", password="x", is_staff=is_staff)
    if perm:
        user.user_permissions.add(Permission.objects.get(codename="export_audience", content_type__app_label="socialshop"))
    client = Client()
    client.force_login(user)
    return client


def url(slug: str, platform: str) -> str:
    return reverse("socialshop:audience-export", kwargs={"slug": slug, "platform": platform})


def read(response: Any) -> list[list[str]]:
    assert response.streaming
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_export_url_is_under_the_staff_prefix() -> None:
    assert url("vip", "meta") == "/socialshop/staff/audiences/vip/export/meta.csv"


@pytest.mark.parametrize("who", ["anonymous", "staff without the permission", "customer with the permission"])
def test_export_is_forbidden_without_staff_and_the_permission(vip: Audience, who: str) -> None:
    client = {"anonymous": Client, "staff without the permission": lambda: staff(perm=False),
              "customer with the permission": lambda: staff(is_staff=False)}[who]()
    response = client.get(url("vip", "meta"))
    assert response.status_code == 403
    assert client.get(url("no-such-audience", "meta")).status_code == 403  # nothing is looked up first


def test_export_of_an_unknown_audience_is_404(vip: Audience) -> None:
    assert staff().get(url("no-such-audience", "meta")).status_code == 404


@pytest.mark.parametrize("platform", ["myspace", *OTHER_PLATFORMS])
def test_export_for_an_unknown_platform_or_one_without_audience_uploads_is_404(vip: Audience, platform: str) -> None:
    assert staff().get(url("vip", platform)).status_code == 404


def test_export_is_get_only(vip: Audience) -> None:
    assert staff().post(url("vip", "meta")).status_code == 405


def test_meta_export_has_metas_columns_and_hashes(vip: Audience) -> None:
    response = staff().get(url("vip", "meta"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="vip-meta.csv"'
    assert response["Cache-Control"] == "no-store"
    header, *rows = read(response)
    assert header == ["EXTERN_ID", "EMAIL", "PHONE", "FN", "LN", "CT", "ST", "ZIP", "COUNTRY"]
    assert len(rows) == 4
    by_email = {row[1]: row for row in rows}
    ann = by_email[sha256_hex("ann@example.com")]
    assert ann[2] == sha256_hex("16505551212") and ann[8] == sha256_hex("us")
    assert by_email[sha256_hex("john.smith+x@gmail.com")]  # Meta: the address as typed, plus kept
    assert by_email[""][2] == sha256_hex("442079460018")  # phone only


@pytest.mark.parametrize("platform", AUDIENCE_PLATFORMS)
def test_every_platform_export_has_its_header_and_only_sha256_hex_values(vip: Audience, platform: str) -> None:
    uploads = export_capability(platform)
    assert uploads is not None
    header, *rows = read(staff().get(url("vip", platform)))
    assert header == export_columns(uploads) and header
    assert rows, "every member has an email or a phone"
    for row in rows:
        assert len(row) == len(header)
        assert all(HEX64_RE.match(value) for value in row if value), row
        assert any(row)
    text = "".join(",".join(row) for row in rows).lower()
    for raw in ("ann@example.com", "bob@", "5551212", "gmail"):
        assert raw not in text


def test_export_leaves_out_members_whose_consent_does_not_allow_sharing(settings: Any) -> None:
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "CONSENT_REQUIRED": True}
    now = timezone.now()
    for visitor, email in (("v-yes", "yes@example.com"), ("v-no", "no@example.com")):
        Event.objects.create(event_id=f"e-{visitor}", name="PageView", visitor_id=visitor, occurred_at=now - timedelta(hours=1),
                             received_at=now, source="server", may_share=True, user_data={"em": sha256_hex(email)})
    ConsentRecord.objects.create(visitor_id="v-yes", ads=ConsentChoice.GRANTED)
    ConsentRecord.objects.create(visitor_id="v-no", ads=ConsentChoice.DENIED)
    visitors = Audience.objects.create(name="Visitors", slug="visitors", kind=RuleKind.VISITORS)
    assert build_audience(visitors).status == BuildStatus.SUCCEEDED
    assert visitors.size == 2  # a denied ads consent stays a member, but is not shared
    header, *rows = read(staff().get(url("visitors", "meta")))
    assert [row[header.index("EMAIL")] for row in rows] == [sha256_hex("yes@example.com")]


def test_export_needs_no_platform_connection(vip: Audience, settings: Any) -> None:
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "PLATFORMS": {}}
    header, *rows = read(staff().get(url("vip", "meta")))
    assert header[0] == "EXTERN_ID" and len(rows) == 4
