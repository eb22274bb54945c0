"""The landing link /socialshop/c/<slug>/: a member assigned a variant with an incentive gets their own
code applied to the session; a non-member or hold-out member gets none; only the store's own pages
are redirect targets."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from shop_demo.store.discounts import CODE_SESSION_KEY
from shop_demo.store.models import Voucher
from socialshop.campaigns.landing import landing_url
from socialshop.campaigns.models import IssuedCode
from socialshop.campaigns.targeting import refresh_campaign
from socialshop.privacy.consent import CONSENT_COOKIE, VISITOR_COOKIE
from tests.campaigns.conftest import H, NOW, join, make_audience, make_campaign, person_with_variant, with_incentive
from tests.factories import VariantFactory

pytestmark = pytest.mark.django_db
VISITOR = "visitor-landing-0001"


def _visitor(client: Client, visitor_id: str = VISITOR) -> Client:
    client.cookies[CONSENT_COOKIE] = "ag.dg.o0"
    client.cookies[VISITOR_COOKIE] = visitor_id
    return client


def _campaign(*, holdout: bool | None):  # type: ignore[no-untyped-def]
    """A running campaign with a 10 % code; the visitor is a member (hold-out or not) unless ``holdout`` is None."""
    audience = make_audience()
    campaign = with_incentive(make_campaign(audience, holdout_percent=50))
    if holdout is not None:
        person = person_with_variant(campaign, holdout=holdout)
        join(audience, person, qualified_at=NOW - 2 * H)
        refresh_campaign(campaign)
        return campaign, person
    return campaign, ""


def _land(client: Client, campaign, next_path: str = "/p/some-shirt/"):  # type: ignore[no-untyped-def]
    return client.get(f"/socialshop/c/{campaign.slug}/", {"next": next_path})


def test_a_member_lands_with_their_own_code_applied() -> None:
    campaign, person = _campaign(holdout=False)
    client = _visitor(Client(), person.removeprefix("v:"))
    response = _land(client, campaign)
    assert response.status_code == 302
    target = urlsplit(response["Location"])
    assert target.path == "/p/some-shirt/" and not target.netloc
    assert parse_qs(target.query)["utm_campaign"] == [campaign.slug]
    issued = IssuedCode.objects.get(campaign=campaign, person=person)
    assert client.session[CODE_SESSION_KEY] == issued.code and Voucher.objects.filter(code=issued.code).exists()
    _land(client, campaign)  # landing again reveals the same code, never a second one
    assert IssuedCode.objects.filter(campaign=campaign).count() == 1 and Voucher.objects.count() == 1
    variant = VariantFactory(stock=3)
    client.post("/cart/add/", {"product_id": variant.sku}, HTTP_ACCEPT="application/json")
    page = client.get("/cart/").content.decode()
    assert f"Discount code <strong>{issued.code}</strong> applied" in page and "Discount (" in page


def test_an_email_link_reveals_the_persons_code_on_any_device() -> None:
    campaign, person = _campaign(holdout=False)
    client = Client()  # no cookies: another device than the one that qualified
    response = client.get(landing_url(campaign, person=person, next_path="/cart/", channel="email"))
    assert response.status_code == 302 and urlsplit(response["Location"]).path == "/cart/"
    assert parse_qs(urlsplit(response["Location"]).query)["utm_medium"] == ["email"]
    assert client.session[CODE_SESSION_KEY] == IssuedCode.objects.get(person=person).code
    forged = Client().get(f"/socialshop/c/{campaign.slug}/", {"p": "v:someone-else", "next": "/"})
    assert forged.status_code == 302 and CODE_SESSION_KEY not in Client().session


def test_a_holdout_member_lands_without_a_code() -> None:
    campaign, person = _campaign(holdout=True)
    client = _visitor(Client(), person.removeprefix("v:"))
    response = _land(client, campaign)
    assert response.status_code == 302 and urlsplit(response["Location"]).path == "/p/some-shirt/"
    assert CODE_SESSION_KEY not in client.session and not IssuedCode.objects.exists()


def test_a_non_member_lands_without_a_code() -> None:
    campaign, _ = _campaign(holdout=None)
    client = _visitor(Client(), "visitor-not-a-member")
    response = _land(client, campaign)
    assert response.status_code == 302
    assert CODE_SESSION_KEY not in client.session and not IssuedCode.objects.exists()


def test_an_unknown_campaign_is_a_404() -> None:
    assert Client().get("/socialshop/c/no-such-campaign/").status_code == 404


@pytest.mark.parametrize("target", [
    "https://evil.example/", "//evil.example/path", "/\\evil.example", "\\\\evil.example", "javascript:alert(1)",
    "http://testserver.evil.example/", "https:///evil.example", " //evil.example", "/%2F%2Fevil.example",
    "data:text/html,<script>alert(1)</script>", "ftp://testserver/",
])
def test_the_landing_never_redirects_off_the_store(target: str) -> None:
    campaign, _ = _campaign(holdout=None)
    response = Client().get(f"/socialshop/c/{campaign.slug}/", {"next": target})
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert not location.scheme and not location.netloc and location.path.startswith("/")
    assert not location.path.startswith(("//", "/\\"))
