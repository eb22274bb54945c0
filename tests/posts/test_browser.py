"""Shoppable posts in headless Chromium: gallery -> post -> hotspot -> add to cart, with the cart and the
PostCloseup, PostClick and AddToCart events checked on the server (one AddToCart row and one delivery per platform)."""
from __future__ import annotations

from typing import Any

import pytest
from django.contrib.sessions.backends.db import SessionStore

from socialshop.posts.models import Post
from socialshop.tracking.models import Delivery, Event
from socialshop.tracking.outbox import create_deliveries
from tests.conftest import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
# The collector ignores headless browsers as bots; present as the desktop Chrome a shopper uses.
DESKTOP_CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"


@pytest.fixture
def seeded(live_server: Any, settings: Any, tmp_path: Any) -> str:
    from shop_demo.store.seed import seed_store
    from shop_demo.store.seed_posts import seed_posts

    settings.MEDIA_ROOT = str(tmp_path / "media")
    seed_store(products=8, customers=1)
    seed_posts(count=2)
    return live_server.url


def test_shopper_adds_a_tagged_product_to_the_cart_from_a_post(browser: Any, seeded: str, settings: Any) -> None:
    context = browser.new_context(viewport={"width": 1100, "height": 900}, user_agent=DESKTOP_CHROME)
    page = context.new_page()
    page.goto(seeded + "/socialshop/posts/")
    page.wait_for_function("() => window.socialshop && window.socialshop.version")
    page.evaluate("() => window.socialshop.setConsent({analytics: true, ads: true})")

    page.locator(".ss-tile-link").first.click()
    page.wait_for_selector("[data-ss-post]")
    post = Post.objects.get(pk=int(page.get_attribute("[data-ss-post]", "data-post-id")))

    hotspot = page.locator(".ss-post-media [data-ss-hotspot]").first
    label = hotspot.inner_text()
    assert label.startswith("Show product:")  # a labelled button
    hotspot.focus()
    page.keyboard.press("Enter")  # keyboard operable
    card_id = hotspot.get_attribute("aria-controls")
    card = page.locator(f"#{card_id}")
    card.wait_for(state="visible")
    focused_in_card = page.evaluate(f"() => document.getElementById('{card_id}').contains(document.activeElement)")
    assert focused_in_card  # focus moved into the dialog
    tag_id = card.get_attribute("data-tag-id")
    product_id = card.get_attribute("data-product-id")

    url_before = page.url
    card.get_by_role("button", name="Add to cart").click()
    page.wait_for_function(f"() => document.querySelector('#{card_id} [data-ss-status]').textContent.startsWith('Added to cart')")
    assert page.url == url_before  # never left the page
    assert page.locator("[data-cart-count]").first.inner_text() == "1"

    page.keyboard.press("Escape")
    card.wait_for(state="hidden")
    assert page.evaluate("() => document.activeElement && document.activeElement.hasAttribute('data-ss-hotspot')")

    session_key = next(c["value"] for c in context.cookies() if c["name"] == "sessionid")
    assert SessionStore(session_key=session_key).load()["cart"] == {product_id: 1}

    def stored(name: str) -> Event | None:
        return Event.objects.filter(name=name, post_id=str(post.pk)).first()

    closeup = wait_for(lambda: stored("PostCloseup"), what="PostCloseup stored", timeout=20)
    click = wait_for(lambda: stored("PostClick"), what="PostClick stored", timeout=20)
    add = wait_for(lambda: stored("AddToCart"), what="AddToCart stored", timeout=20)
    assert click.tag_id == tag_id and click.content_ids == [product_id]
    assert add.tag_id == tag_id and add.content_ids == [product_id] and add.value is not None
    assert closeup.visitor_id and closeup.visitor_id == add.visitor_id

    # One AddToCart: the cart view recorded it with posts.js's event_id; the tag (pixels, collector) has
    # the same id, so its copy is a duplicate. A marker tracked after it shows the tag's queue was sent.
    browser_ids = page.evaluate("""() => new Promise(done => {
        const ids = []; window.socialshop.on("event", e => { if (e.name === "AddToCart") ids.push(e.event_id); });
        window.socialshop.track("PageView", {event_id: "after-the-add"}); window.socialshop.flush();
        setTimeout(() => done(ids), 50);
    })""")
    assert browser_ids == [add.event_id]
    wait_for(lambda: Event.objects.filter(event_id="after-the-add").exists(), what="the tag's queue collected", timeout=20)
    assert Event.objects.filter(name="AddToCart").count() == 1
    assert add.source == "server"
    create_deliveries()
    assert sorted(Delivery.objects.filter(event=add).values_list("platform", flat=True)) == sorted(settings.SOCIALSHOP["PLATFORMS"])
    assert Delivery.objects.count() == Delivery.objects.filter(event=add).count() + Delivery.objects.exclude(
        event__name="AddToCart").count()
    context.close()


def test_gallery_views_and_post_like_save_share_comment_reach_the_event_store(browser: Any, seeded: str) -> None:
    context = browser.new_context(viewport={"width": 1100, "height": 1400}, user_agent=DESKTOP_CHROME)
    page = context.new_page()
    page.goto(seeded + "/socialshop/posts/")
    page.wait_for_function("() => window.socialshop && window.socialshop.version")
    page.evaluate("() => window.socialshop.setConsent({analytics: true, ads: true})")
    tile_ids = page.eval_on_selector_all("[data-ss-tile]", "els => els.map(e => e.dataset.postId)")
    page.reload()  # consent is now set: tiles on screen send PostView
    page.wait_for_timeout(300)
    page.evaluate("() => window.socialshop.flush()")
    wait_for(lambda: set(Event.objects.filter(name="PostView").values_list("post_id", flat=True)) == set(tile_ids),
             what="a PostView per visible tile", timeout=20)

    page.locator(".ss-tile-link").first.click()
    page.wait_for_selector("[data-ss-post]")
    post_id = page.get_attribute("[data-ss-post]", "data-post-id")
    like = page.get_by_role("button", name="Like")
    like.click()
    assert like.get_attribute("aria-pressed") == "true"
    page.get_by_role("button", name="Save").click()
    page.get_by_role("link", name="Share").click()
    assert page.url.endswith(f"/socialshop/posts/{Post.objects.get(pk=post_id).slug}/")  # share stays on the page
    page.fill("input[name=name]", "Robin")
    page.fill("input[name=email]", "robin@example.com")
    page.fill("textarea[name=body]", "<b>Lovely</b>")
    page.get_by_role("button", name="Post comment").click()
    page.wait_for_function("() => document.querySelector('[data-ss-comment-status]').textContent.includes('approved')")
    page.evaluate("() => window.socialshop.flush()")
    for name in ("PostLike", "PostSave", "PostShare", "PostComment"):
        wait_for(lambda name=name: Event.objects.filter(name=name, post_id=post_id).exists(), what=f"{name} stored", timeout=20)
    context.close()
