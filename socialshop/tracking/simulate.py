"""Simulated storefront traffic for demos and benchmarks, stored through the collector's path.

Each simulated request is checked like a real one (bot filter, ``clean_event``, consent-reduced
``build_row``) and stored with ``store_events``; simulated events are never forwarded.
The command is ``management/commands/socialshop_simulate.py``.
"""
from __future__ import annotations

import random
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone as dt_timezone
from typing import Any

from socialshop.conf import app_settings
from socialshop.exceptions import SocialshopError
from socialshop.privacy.consent import ConsentState, new_id
from socialshop.privacy.hashing import hash_user_data
from socialshop.privacy.models import ConsentChoice, ConsentRecord
from socialshop.tracking.collector import VisitContext, build_row, is_bot
from socialshop.tracking.store import store_events
from socialshop.tracking.validation import EventRejected, clean_event

BATCH_ROWS = 1000  # 31 columns x 1000 rows stays under PostgreSQL's 65,535 parameters per statement
USER_AGENTS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
)
BOT_AGENTS = (
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
)
# (weight, referrer, utm_source, click id parameter or "")
SOURCES = (
    (30, "", "", ""),
    (22, "https://www.instagram.com/", "instagram", "fbclid"),
    (15, "https://www.facebook.com/", "facebook", "fbclid"),
    (12, "https://www.pinterest.com/", "pinterest", "epik"),
    (10, "https://www.tiktok.com/", "tiktok", "ttclid"),
    (11, "https://www.google.com/", "google", "gclid"),
)
POST_SHARE = 0.3  # of sessions that start on a shoppable post (when there are posts)
# (event, chance after a PostView): closeups, saves and likes; clicks are a tag's and lead to its product
POST_ENGAGEMENT = (("PostCloseup", 0.45), ("PostSave", 0.08), ("PostLike", 0.15))
POST_TAG_CLICK = 0.3
# Checkout events that carry the buyer's hashed email and phone, as the store's server calls store them.
CHECKOUT_EVENTS = ("InitiateCheckout", "Purchase")
SEARCH_WORDS = ("linen", "boots", "tote", "wool", "mug", "summer dress", "rain jacket", "candle", "sneakers")


@dataclass(frozen=True, slots=True)
class SimulatedPost:
    """A published post for the simulator: its ``post_id``, page slug and tags as (tag_id, catalog id)."""

    post_id: str
    slug: str
    tags: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class SimulationResult:
    """Counts of one run: visitors, events stored, bot events filtered, purchases."""

    visitors: int
    events: int
    bot_events: int
    purchases: int


def shopper_identity(number: int) -> dict[str, str]:
    """The made-up raw identity of simulated shopper ``number`` (an example.com address and a 555 number),
    as a store would pass it to ``report_event(user_data=...)``; only its hashes are ever stored."""
    return {"email": f"shopper{number}@example.com", "phone": f"+1 202 555 {number % 10000:04d}", "country": "US"}


class _Run:
    def __init__(self, rng: random.Random, products: list[tuple[str, float, str]], site: str, prefix: str,
                 posts: Sequence[SimulatedPost] = (), users: Sequence[int] = (), customers: float = 0.0,
                 guest_emails: bool = False) -> None:
        self.rng, self.products, self.site, self.prefix = rng, products, site.rstrip("/"), prefix
        self.posts = list(posts)
        self.users, self.next_user = list(users), 0
        self.customers, self.guest_emails = customers, guest_emails
        self.user_data: dict[str, str] = {}  # the current visitor's hashed identity at checkout
        self.by_id = {p[0]: p for p in products}
        self.rows: list[dict[str, Any]] = []
        self.consents: list[ConsentRecord] = []
        self.stored = self.bots = self.purchases = self.orders = 0

    def event(self, context: VisitContext | None, name: str, when: datetime, url: str, referrer: str, **data: Any) -> None:
        """One event through the collector's checks; checkouts carry the visitor's hashed identity when known."""
        raw = {"event_id": f"{self.prefix}{secrets.token_hex(8)}", "name": name, "time": when.timestamp(),
               "url": url, "referrer": referrer, **data}
        if context is None:  # a bot: the collector's filter drops it
            self.bots += 1
            return
        try:
            cleaned = clean_event(raw, now=when.timestamp())
        except EventRejected:
            return
        row = build_row(cleaned, context, source="simulated", now=when)
        if self.user_data and name in CHECKOUT_EVENTS:
            row["user_data"] = self.user_data
        self.rows.append(row)
        if name == "Purchase":
            self.purchases += 1

    def flush(self, *, force: bool = False) -> None:
        if self.rows and (force or len(self.rows) >= BATCH_ROWS):
            for start in range(0, len(self.rows), BATCH_ROWS):
                self.stored += len(store_events(self.rows[start:start + BATCH_ROWS], notify=False))
            self.rows = []
        if self.consents and (force or len(self.consents) >= BATCH_ROWS):
            ConsentRecord.objects.bulk_create(self.consents, ignore_conflicts=True, batch_size=BATCH_ROWS)
            self.consents = []

    def consent_for(self) -> ConsentState:
        required = bool(app_settings.CONSENT_REQUIRED)
        roll = self.rng.random()
        if roll < 0.62:
            return ConsentState(ConsentChoice.GRANTED, ConsentChoice.GRANTED, required=required)
        if roll < 0.70:
            return ConsentState(ConsentChoice.GRANTED, ConsentChoice.GRANTED, gpc=True, required=required)
        if roll < 0.82:
            return ConsentState(ConsentChoice.GRANTED, ConsentChoice.DENIED, required=required)
        return ConsentState(ConsentChoice.DENIED, ConsentChoice.DENIED, required=required)

    def visitor(self, start: datetime) -> None:
        rng = self.rng
        agent = rng.choice(BOT_AGENTS) if rng.random() < 0.04 else rng.choice(USER_AGENTS)
        bot = is_bot(agent)
        state = self.consent_for()
        visitor_id = new_id() if state.may_identify and not bot else ""
        if visitor_id:
            self.consents.append(ConsentRecord(visitor_id=visitor_id, analytics=state.analytics, ads=state.ads, gpc=state.gpc))
        ip = f"{rng.randint(11, 220)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.0" if visitor_id else ""
        user_id, self.user_data = None, {}
        if self.users and visitor_id:  # signed in as the next account in turn (only visitors who consented)
            user_id, self.next_user = self.users[self.next_user % len(self.users)], self.next_user + 1
            if self.guest_emails:  # their checkouts carry their hashed identity, as the store's server call does
                self.user_data = hash_user_data(shopper_identity(user_id))
        elif visitor_id and (self.customers or self.guest_emails):  # no extra draws otherwise: seeds give the same traffic
            # A signed-in customer (their account on every event) or a guest who gives an email at checkout.
            number = rng.randrange(1, 2 ** 31)  # an account id (the event store keeps a 32-bit id)
            user_id = number if self.customers and rng.random() < self.customers else None
            self.user_data = hash_user_data(shopper_identity(number))
        now = datetime.now(dt_timezone.utc) - timedelta(minutes=30)
        first = start + (now - start) * rng.random()
        later = [first + (now - first) * rng.random() for _ in range(int(rng.expovariate(1.2)))]
        for when in [first, *sorted(later)]:
            context = None if bot else VisitContext(
                consent=state, visitor_id=visitor_id, session_id=new_id() if visitor_id else "",
                ip=ip, user_agent=agent if visitor_id else "", user_id=user_id,
            )
            self.session(context, when)
        self.flush()

    def session(self, context: VisitContext | None, when: datetime) -> None:
        rng = self.rng
        _, referrer, source, click = rng.choices(SOURCES, weights=[s[0] for s in SOURCES])[0]
        query = ""
        if source:
            query = f"?utm_source={source}&utm_medium={'cpc' if click else 'social'}&utm_campaign=spring"
            if click:
                query += f"&{click}={secrets.token_urlsafe(12)}"
        step = lambda: timedelta(seconds=rng.uniform(5, 90))  # noqa: E731 - tiny local clock
        self.event(context, "PageView", when, f"{self.site}/{query}", referrer)
        if rng.random() < 0.2:
            when += step()
            words = rng.choice(SEARCH_WORDS)
            self.event(context, "Search", when, f"{self.site}/search/?q={words.replace(' ', '+')}", self.site + "/", search_string=words)
        viewed = rng.sample(self.products, k=min(len(self.products), 1 + int(rng.expovariate(0.6))))
        if self.posts and rng.random() < POST_SHARE:
            clicked = self.post_visit(context, when, referrer)
            when += step()
            if clicked is not None:
                viewed = [clicked, *(p for p in viewed if p != clicked)]
        for product_id, price, currency in viewed:
            when += step()
            url = f"{self.site}/p/{product_id}/"
            self.event(context, "PageView", when, url, self.site + "/")
            self.event(context, "ViewContent", when, url, self.site + "/", content_ids=[product_id], value=price, currency=currency)
        if rng.random() > 0.22:
            return
        cart = viewed[: 1 + int(rng.random() < 0.3)]
        for product_id, price, currency in cart:
            when += step()
            self.event(context, "AddToCart", when, f"{self.site}/p/{product_id}/", self.site + "/", value=price, currency=currency,
                       content_ids=[product_id], contents=[{"id": product_id, "quantity": 1, "item_price": price}])
        if rng.random() > 0.5:
            return
        total = round(sum(p for _, p, _ in cart), 2)
        contents = [{"id": pid, "quantity": 1, "item_price": p} for pid, p, _ in cart]
        when += step()
        self.event(context, "InitiateCheckout", when, f"{self.site}/checkout/", f"{self.site}/cart/", value=total,
                   currency=cart[0][2], content_ids=[c["id"] for c in contents], contents=contents)
        if rng.random() > 0.6:
            return
        self.orders += 1
        when += step() * 3
        self.event(context, "Purchase", when, f"{self.site}/order/confirmed/", f"{self.site}/checkout/", value=total,
                   currency=cart[0][2], content_ids=[c["id"] for c in contents], contents=contents,
                   order_id=f"{self.prefix}{self.orders}")


    def post_visit(self, context: VisitContext | None, when: datetime, referrer: str) -> tuple[str, float, str] | None:
        """A view of a shoppable post with closeups, saves, likes and maybe a tag click; returns the clicked product."""
        rng = self.rng
        post = rng.choice(self.posts)
        url = f"{self.site}/socialshop/posts/{post.slug}/"
        self.event(context, "PostView", when, url, referrer, post_id=post.post_id)
        for name, chance in POST_ENGAGEMENT:
            if rng.random() < chance:
                self.event(context, name, when + timedelta(seconds=rng.uniform(2, 20)), url, referrer, post_id=post.post_id)
        tags = [t for t in post.tags if t[1] in self.by_id]
        if not tags or rng.random() >= POST_TAG_CLICK:
            return None
        tag_id, product_id = rng.choice(tags)
        self.event(context, "PostClick", when + timedelta(seconds=rng.uniform(5, 30)), url, referrer,
                   post_id=post.post_id, tag_id=tag_id, content_ids=[product_id])
        return self.by_id[product_id]


def catalog_products(limit: int = 2000) -> list[tuple[str, float, str]]:
    """(catalog id, price, currency) of up to ``limit`` products with a price."""
    from socialshop.catalog import get_catalog

    products = []
    for record in get_catalog().iter_records():
        price = record.effective_price()
        if price is not None:
            products.append((record.id, float(price), record.currency or app_settings.CURRENCY))
            if len(products) >= limit:
                break
    return products


def simulate_traffic(
    *,
    visitors: int,
    days: int,
    seed: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    posts: Sequence[SimulatedPost] = (),
    users: Sequence[int] = (),
    customers: float = 0.0,
    guest_emails: bool = False,
) -> SimulationResult:
    """Store simulated traffic of ``visitors`` visitors spread over the last ``days`` days.

    Sessions with social referrers (utm + click ids), views → carts → checkouts → purchases with
    realistic drop-off, some bots (filtered, not stored) and visitors who reject consent
    (anonymous events). With ``posts``, some sessions start on a post (PostView, PostCloseup,
    PostSave, PostLike, and PostClick on a tag that leads to its product, so purchases are
    attributed). With ``users`` (account ids), each visitor who consents is signed in as the next of
    them in turn, so audiences and campaign emails have reachable customers. Otherwise ``customers``
    (0 to 1, default 0) is the share of identified visitors who are
    signed-in customers (``user_id`` on their events, ``shopper_identity(user_id)`` their account);
    with it, every identified visitor's checkout events also carry their hashed email and phone
    (``hash_user_data``), so audience members are matchable. ``guest_emails`` gives the checkouts of
    identified visitors (and of ``users``) their hashed email and phone without inventing accounts: what
    a store whose accounts exist (the demo's) reports for guests. ``progress(done, total)`` is called every 500 visitors. Raises
    ``SocialshopError`` when the catalog has no priced products.
    """
    if not 0 <= customers <= 1:
        raise SocialshopError(f"customers = {customers!r} is not a share from 0 to 1")
    products = catalog_products()
    if not products:
        raise SocialshopError("the catalog has no products with a price to simulate traffic for")
    rng = random.Random(seed)
    run = _Run(rng, products, app_settings.SITE_URL or "http://127.0.0.1:8000", prefix=f"sim{secrets.token_hex(3)}-",
               posts=posts, users=users, customers=customers, guest_emails=guest_emails)
    start = datetime.now(dt_timezone.utc) - timedelta(days=days)
    for index in range(visitors):
        run.visitor(start)
        if progress and (index + 1) % 500 == 0:
            progress(index + 1, visitors)
    run.flush(force=True)
    return SimulationResult(visitors=visitors, events=run.stored, bot_events=run.bots, purchases=run.purchases)
