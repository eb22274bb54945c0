""""Why this ad" on /socialshop/privacy/ and the opt-out of all retargeting: a visitor sees their own
audiences with the action that put them there and the campaigns reaching them (never the hold-out,
never another visitor's data), in a constant number of queries; the opt-out needs the CSRF token, is
idempotent, suppresses email on every key and, end to end, removes the person from the platform's list."""
from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from socialshop.audiences.builder import build_audience
from socialshop.audiences.models import Audience, AudienceMember, BuildStatus, RuleKind, VisitorLink
from socialshop.audiences.sync import sync_audience
from socialshop.campaigns.assignment import Split, assign
from socialshop.campaigns.models import Campaign, CampaignMember, Suppression
from socialshop.campaigns.targeting import refresh_campaign
from socialshop.catalog import get_catalog
from socialshop.platforms import get_platform
from socialshop.privacy.hashing import hash_user_data
from socialshop.privacy.models import ConsentChoice, ConsentRecord
from socialshop.tracking.models import Event
from tests.campaigns.conftest import make_campaign

pytestmark = pytest.mark.django_db
PAGE = "/socialshop/privacy/"
OPT_OUT = "/socialshop/privacy/opt-out/"
_seq = itertools.count(1)


@pytest.fixture
def catalog_products(db: None) -> list[Any]:
    """Two products of the demo store with different titles, as catalog records (id, title)."""
    from shop_demo.store.seed import seed_store

    seed_store(products=2, customers=0)
    records: dict[str, Any] = {}
    for record in get_catalog().iter_records():
        records.setdefault(record.title, record)
    assert len(records) >= 2
    return list(records.values())


def visitor_id() -> str:
    return f"visitor-{next(_seq):04d}-abcdefghijk"  # 16-40 url-safe characters, as the cookie holds


def shopper(action: str, product_id: str, *, ago: timedelta = timedelta(hours=3), visitor: str = "",
            email: str = "", user_id: int | None = None) -> str:
    """A visitor who allowed sharing and did ``action`` on ``product_id`` ``ago``; returns the visitor id."""
    visitor = visitor or visitor_id()
    at = timezone.now() - ago
    ConsentRecord.objects.update_or_create(visitor_id=visitor, defaults={"ads": ConsentChoice.GRANTED,
                                                                           "analytics": ConsentChoice.GRANTED})
    Event.objects.create(event_id=f"why-{next(_seq)}", name=action, visitor_id=visitor, occurred_at=at, received_at=at,
                         may_share=True, content_ids=[product_id], user_id=user_id,
                         user_data=hash_user_data({"email": email}) if email else {})
    return visitor


def cart_audience(name: str = "Cart abandoners") -> Audience:
    slug = f"carts-{next(_seq)}"
    audience = Audience.objects.create(name=name, slug=slug, kind=RuleKind.CART_ABANDONERS)
    built(audience)
    return audience


def built(audience: Audience) -> Audience:
    build = build_audience(audience)
    assert build.status == BuildStatus.SUCCEEDED, build.error
    return audience


def browser_of(visitor: str, **extra: Any) -> Client:
    client = Client(**extra)
    client.cookies["ss_consent"] = "ag.dg.o0"
    client.cookies["ss_vid"] = visitor
    return client


def why_block(html: str) -> str:
    start = html.index('id="why-this-ad"')
    return html[start:html.index("<h2", start + 10)]


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))


def day(delta: timedelta) -> str:
    at = timezone.localtime(timezone.now() - delta)
    return f"{at.day} {at:%B}"


def held_out_salt(campaign: Campaign, person: str) -> None:
    """Give ``campaign`` a salt under which ``person`` falls in the hold-out."""
    for n in itertools.count():
        campaign.salt = f"salt-{n}"
        split = Split.of(campaign)
        assert split is not None
        if assign(split, person)[1] is None:
            campaign.save(update_fields=["salt"])
            return


def test_a_visitor_sees_their_audience_and_the_action_that_put_them_there(catalog_products: list[Any]) -> None:
    product = catalog_products[0]
    visitor = shopper("AddToCart", product.id)
    cart_audience("Left something in the cart")
    html = browser_of(visitor).get(PAGE).content.decode()
    words = text(why_block(html))
    assert "Left something in the cart" in words
    assert f"You added {product.title} to your cart on {day(timedelta(hours=3))} and have not bought since." in words
    assert "Opt out of all retargeting" in words and "every 15 minutes" in words


def test_a_visitor_who_did_not_allow_sharing_is_told_they_are_not_uploaded(catalog_products: list[Any]) -> None:
    visitor = shopper("AddToCart", catalog_products[0].id)
    cart_audience("Carts")
    ConsentRecord.objects.filter(visitor_id=visitor).update(ads=ConsentChoice.DENIED)
    client = browser_of(visitor)
    client.cookies["ss_consent"] = "ag.dd.o0"  # measuring allowed, sharing not
    words = text(why_block(client.get(PAGE).content.decode()))
    assert "Carts" in words and "so you are not on the lists we upload to them." in words
    assert "not on the lists" not in text(why_block(browser_of(visitor).get(PAGE).content.decode()))


def test_campaigns_that_reach_the_visitor_are_named_with_their_channels_but_not_the_hold_out(catalog_products: list[Any]) -> None:
    visitor = shopper("AddToCart", catalog_products[0].id)
    audience = cart_audience()
    reaching = make_campaign(audience, name="Come back for your cart", channels=["email", "meta"], holdout_percent=0)
    held = make_campaign(audience, name="Second chance", channels=["email"], holdout_percent=50)
    held_out_salt(held, f"v:{visitor}")
    for campaign in (reaching, held):
        refresh_campaign(campaign)
    assert CampaignMember.objects.get(campaign=held, person=f"v:{visitor}").holdout
    words = text(why_block(browser_of(visitor).get(PAGE).content.decode()))
    assert "Come back for your cart, on email, Meta" in words
    assert "Second chance" not in words


def test_a_visitor_never_sees_another_visitors_actions(catalog_products: list[Any]) -> None:
    mine, theirs = catalog_products[0], catalog_products[1]
    me = shopper("AddToCart", mine.id)
    other = shopper("AddToCart", theirs.id)
    cart_audience()
    mine_words = text(why_block(browser_of(me).get(PAGE).content.decode()))
    their_words = text(why_block(browser_of(other).get(PAGE).content.decode()))
    assert mine.title in mine_words and theirs.title not in mine_words
    assert theirs.title in their_words and mine.title not in their_words
    assert other not in mine_words and me not in mine_words  # no ids either


def test_a_browser_linked_to_an_account_that_is_not_signed_in_does_not_show_the_account(catalog_products: list[Any]) -> None:
    user = get_user_model().objects.create_user("ann", password="pw-ann-12345")
    phone = shopper("AddToCart", catalog_products[1].id, user_id=user.pk)  # the account's action on another device
    shared_pc = shopper("ViewContent", catalog_products[0].id, ago=timedelta(days=2))
    VisitorLink.objects.create(visitor_id=shared_pc, person=f"u:{user.pk}", user_id=user.pk, linked_at=timezone.now())
    cart_audience("Carts")
    assert AudienceMember.objects.filter(person=f"u:{user.pk}", left_at__isnull=True).exists()
    anonymous = text(why_block(browser_of(shared_pc).get(PAGE).content.decode()))
    assert "Carts" not in anonymous and catalog_products[1].title not in anonymous
    assert "Sign in to see what is linked to that account" in anonymous
    signed_in = browser_of(shared_pc)
    signed_in.force_login(user)
    words = text(why_block(signed_in.get(PAGE).content.decode()))
    assert "Carts" in words and f"You added {catalog_products[1].title} to your cart" in words
    assert phone not in words


def test_without_a_visitor_cookie_the_page_says_nothing_is_held_and_sets_no_cookie(catalog_products: list[Any]) -> None:
    shopper("AddToCart", catalog_products[0].id)
    cart_audience()
    response = Client().get(PAGE)
    html = response.content.decode()
    assert 'data-socialshop-why="nothing"' in html and "we hold nothing about you" in text(html)
    assert "data-socialshop-optout" not in html and not response.cookies
    forged = Client()
    forged.cookies["ss_vid"] = "x;<script>"  # not a visitor id: treated as none
    assert 'data-socialshop-why="nothing"' in forged.get(PAGE).content.decode()


def test_the_page_reads_a_constant_number_of_queries_whatever_the_history(catalog_products: list[Any]) -> None:
    def queries(visitor: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert browser_of(visitor).get(PAGE).status_code == 200
        return len(captured)

    few = shopper("AddToCart", catalog_products[0].id)
    many = shopper("AddToCart", catalog_products[1].id)
    for i in range(30):
        shopper("ViewContent", catalog_products[i % 2].id, visitor=many, ago=timedelta(hours=4 + i))
    first = cart_audience()
    make_campaign(first, holdout_percent=0)
    for kind in (RuleKind.VISITORS, RuleKind.VIEWERS):
        extra = Audience.objects.create(name=f"{kind}", slug=f"{kind}-{next(_seq)}", kind=kind,
                                        params={"products": [p.id for p in catalog_products]})
        built(extra)
        make_campaign(extra, holdout_percent=0)
    for campaign in Campaign.objects.all():
        refresh_campaign(campaign)
    # The three rule audiences (the campaigns' own ad audiences hold them too and are left out here).
    assert AudienceMember.objects.filter(person=f"v:{many}", left_at__isnull=True).exclude(
        audience__kind=RuleKind.CAMPAIGN).count() == 3
    assert queries(few) == queries(many)


def _token(client: Client) -> str:
    html = client.get(PAGE).content.decode()
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def test_opt_out_needs_the_csrf_token_then_suppresses_email_on_every_key_and_is_idempotent(catalog_products: list[Any]) -> None:
    visitor = shopper("AddToCart", catalog_products[0].id, email="ann@example.com")
    VisitorLink.objects.create(visitor_id=visitor, person="h:" + "a" * 64, linked_at=timezone.now())
    cart_audience()  # rebuilt every 60 minutes (the default)
    client = browser_of(visitor, enforce_csrf_checks=True)
    assert client.post(OPT_OUT).status_code == 403  # no token: nothing changes
    assert not Suppression.objects.exists() and not ConsentRecord.objects.get(visitor_id=visitor).opted_out
    token = _token(client)
    for _ in range(2):
        client.cookies["ss_vid"] = visitor  # the first opt-out deleted it; a second click from another tab
        response = client.post(OPT_OUT, {"csrfmiddlewaretoken": token})
        assert response.status_code == 302 and response["Location"] == PAGE + "?opted-out=1"
    assert sorted(Suppression.objects.filter(channel="email").values_list("person", flat=True)) == ["h:" + "a" * 64, f"v:{visitor}"]
    record = ConsentRecord.objects.get(visitor_id=visitor)
    assert record.opted_out and not Event.objects.filter(visitor_id=visitor, may_share=True).exists()
    assert response.cookies["ss_consent"].value == "ad.dd.o1" and response.cookies["ss_vid"].value == ""
    done = text(client.get(response["Location"]).content.decode())
    assert "You are opted out of all retargeting. Campaign emails stop now." in done
    assert "at the next upload, which runs every 15 minutes" in done and "at most every 60 minutes" in done


def test_a_signed_in_customer_without_a_cookie_is_opted_out_once_for_the_account(catalog_products: list[Any]) -> None:
    user = get_user_model().objects.create_user("bob", password="pw-bob-12345")
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    token = _token(client)
    for _ in range(2):
        assert client.post(OPT_OUT, {"csrfmiddlewaretoken": token}).status_code == 302
    assert ConsentRecord.objects.filter(user=user, opted_out=True).count() == 1
    assert list(Suppression.objects.values_list("person", flat=True)) == [f"u:{user.pk}"]


def test_opt_out_answers_only_post() -> None:
    assert Client().get(OPT_OUT).status_code == 405


def test_the_privacy_page_takes_the_stores_layout_by_overriding_privacy_base(settings: Any, tmp_path: Any) -> None:
    (tmp_path / "socialshop").mkdir()
    (tmp_path / "socialshop" / "privacy_base.html").write_text(
        '<html><body><header id="my-store">My store</header>{% block content %}{% endblock %}</body></html>')
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [str(tmp_path)]}]
    html = Client().get(PAGE).content.decode()
    assert '<header id="my-store">My store</header>' in html and "Privacy and tracking" in html


# End to end with the Meta stand-in (shop_demo/fakeplatforms/audience_meta.py): build, sync, opt out, build + sync.
@pytest.fixture(scope="module")
def meta_server() -> Iterator[Any]:
    from shop_demo.fakeplatforms.audience_meta import FakeMetaAudiences

    server = FakeMetaAudiences().start()
    yield server
    server.stop()


def test_an_opted_out_visitor_is_removed_from_the_platform_list_at_the_next_build_and_sync(
        meta_server: Any, settings: Any, catalog_products: list[Any]) -> None:
    from tests.audiences.members import shoppers
    from shop_demo.fakeplatforms.audience_meta import settings as meta_settings

    meta_server.reset()
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "PLATFORMS": {"meta": meta_settings(meta_server.url)}}
    shoppers(range(120), name="AddToCart")  # enough people for Meta's minimum list size
    me = shopper("AddToCart", catalog_products[0].id, email="optout-me@example.com")
    my_hash = hash_user_data({"email": "optout-me@example.com"})["em"]
    audience = Audience.objects.create(name="Carts", slug="carts-e2e", kind=RuleKind.CART_ABANDONERS)
    built(audience)
    sync_audience(audience, get_platform("meta"))
    remote = audience.destinations.get(platform="meta").remote_id
    assert my_hash in meta_server.members(remote)

    client = browser_of(me, enforce_csrf_checks=True)
    assert client.post(OPT_OUT, {"csrfmiddlewaretoken": _token(client)}).status_code == 302
    sync_audience(audience, get_platform("meta"))  # the next scheduled upload, before any rebuild
    removed = [row for call in meta_server.calls("DELETE", r"/v\d+\.\d+/\d+/users") if call.status == 200
               for row in call.body["payload"]["data"]]
    assert any(my_hash in row for row in removed)
    assert my_hash not in meta_server.members(remote) and len(meta_server.members(remote)) == 120
    built(audience)  # the rebuild leaves the person out; the upload after it adds nothing back
    sync_audience(audience, get_platform("meta"))
    assert not AudienceMember.objects.filter(audience=audience, person=f"v:{me}", left_at__isnull=True).exists()
    assert my_hash not in meta_server.members(remote) and len(meta_server.members(remote)) == 120
