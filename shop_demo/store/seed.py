"""Demo data: a deterministic store (categories, products, variants, images, customers, past orders)
and ``SEED_STEPS``, the ordered steps ``python manage.py demo`` runs on an empty store.

Other concerns add their own step (feeds, posts, simulated traffic) with one line at the bottom.
"""
from __future__ import annotations

import hashlib
import os
import random
import time
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from shop_demo.store.images import product_image
from shop_demo.store.models import Category, Order, OrderLine, Product, ProductImage, Variant
from shop_demo.store.palette import COLORS

Progress = Callable[[str], None] | None
CUSTOMER_PASSWORD = "demo-shopper"  # every seeded customer logs in with their email and this
SEED = 20261123
ACCENTS = [hex_colour for name, hex_colour in COLORS.items() if name != "White"]  # picture backgrounds

CLOTHES = ["XS", "S", "M", "L", "XL"]
SHOES = ["37", "38", "39", "40", "41", "42", "43", "44"]
HOME = ["Small", "Medium", "Large"]
# top level -> [(subcategory, Google product category, shape, sizes, gender, price range, nouns)]
TREE: dict[str, list[tuple[str, str, str, list[str], str, tuple[int, int], list[str]]]] = {
    "Women": [
        ("Dresses", "Apparel & Accessories > Clothing > Dresses", "dress", CLOTHES, "female", (39, 149),
         ["Wrap Dress", "Midi Dress", "Shirt Dress", "Slip Dress", "Sundress", "Knit Dress"]),
        ("Tops", "Apparel & Accessories > Clothing > Shirts & Tops", "top", CLOTHES, "female", (19, 89),
         ["Linen Blouse", "Cotton Tee", "Knit Sweater", "Cardigan", "Tank Top", "Turtleneck"]),
        ("Women's Shoes", "Apparel & Accessories > Shoes", "shoe", SHOES, "female", (49, 189),
         ["Ballet Flat", "Ankle Boot", "Sneaker", "Sandal", "Loafer"]),
    ],
    "Men": [
        ("Shirts", "Apparel & Accessories > Clothing > Shirts & Tops", "shirt", CLOTHES, "male", (25, 99),
         ["Oxford Shirt", "Flannel Shirt", "Polo", "Henley", "Crew Tee", "Overshirt"]),
        ("Trousers", "Apparel & Accessories > Clothing > Pants", "trousers", CLOTHES, "male", (39, 129),
         ["Chino", "Selvedge Jean", "Cargo Pant", "Drawstring Short", "Wool Trouser"]),
        ("Outerwear", "Apparel & Accessories > Clothing > Outerwear > Coats & Jackets", "coat", CLOTHES, "male", (79, 299),
         ["Field Jacket", "Rain Shell", "Wool Overcoat", "Puffer Vest", "Chore Coat"]),
    ],
    "Accessories": [
        ("Bags", "Apparel & Accessories > Handbags, Wallets & Cases", "bag", [], "unisex", (29, 219),
         ["Tote", "Backpack", "Crossbody Bag", "Weekender", "Wallet"]),
        ("Hats", "Apparel & Accessories > Clothing Accessories > Hats", "hat", ["S/M", "L/XL"], "unisex", (15, 59),
         ["Beanie", "Baseball Cap", "Bucket Hat", "Sun Hat"]),
        ("Jewelry", "Apparel & Accessories > Jewelry", "ring", [], "unisex", (19, 159),
         ["Hoop Earrings", "Pendant Necklace", "Signet Ring", "Bangle", "Chain Bracelet"]),
    ],
    "Home": [
        ("Kitchen", "Home & Garden > Kitchen & Dining", "mug", [], "", (9, 129),
         ["Stoneware Mug", "Pour-Over Kettle", "Chef's Knife", "Cutting Board", "Salad Bowl"]),
        ("Decor", "Home & Garden > Decor", "lamp", HOME, "", (15, 199),
         ["Table Lamp", "Ceramic Vase", "Throw Pillow", "Wall Mirror", "Scented Candle"]),
        ("Bedding", "Home & Garden > Linens & Bedding", "bed", ["Twin", "Queen", "King"], "", (29, 249),
         ["Linen Duvet Cover", "Percale Sheet Set", "Waffle Blanket", "Bath Towel Set"]),
    ],
}
TOP_GOOGLE = {"Women": "Apparel & Accessories > Clothing", "Men": "Apparel & Accessories > Clothing",
              "Accessories": "Apparel & Accessories", "Home": "Home & Garden"}
ADJECTIVES = ["Classic", "Everyday", "Coastal", "Harbor", "Alpine", "Heritage", "Studio", "Weekend", "Urban",
              "Meadow", "Nordic", "Canyon", "Summit", "Orchard", "Drift", "Lakeside", "Field", "Cedar"]
MATERIALS = ["organic cotton", "washed linen", "merino wool", "recycled polyester", "full-grain leather",
             "stoneware", "brushed canvas", "hemp blend", "solid oak", "stainless steel"]
BLURBS = ["Made to last and easy to care for.", "Cut for everyday wear, season after season.",
          "Small-batch made, with an eye for the details.", "A quiet classic you will reach for again and again.",
          "Designed in-house and tested by our team for a month before it went on sale."]
BRANDS = ["Fernwood", "Northline", "Atlas & Co", "Marlow", "Kestrel", "Tidewater", "Oakhaven", "Lumen"]
FIRST = ["Ava", "Liam", "Maya", "Noah", "Zoe", "Ethan", "Ines", "Omar", "Chloe", "Lucas", "Priya", "Mateo",
         "Hana", "Jonas", "Lena", "Felix", "Sofia", "Arjun", "Nora", "Kai"]
LAST = ["Nguyen", "Smith", "Garcia", "Kowalski", "Okafor", "Larsen", "Rossi", "Tanaka", "Dubois", "Silva",
        "Fischer", "Haddad", "Murphy", "Patel", "Jensen"]
CITIES = [("Portland", "97205", "US"), ("Austin", "78701", "US"), ("Chicago", "60607", "US"),
          ("Toronto", "M5V 2T6", "CA"), ("London", "E1 6AN", "GB"), ("Berlin", "10115", "DE"),
          ("Denver", "80202", "US"), ("Seattle", "98101", "US")]
STREETS = ["Oak Street", "Harbor Road", "Maple Avenue", "Mill Lane", "Pine Street", "Station Road"]


def _say(progress: Progress, message: str) -> None:
    if progress is not None:
        progress(message)


def gtin13(rng: random.Random) -> str:
    """A random EAN-13 with a correct check digit (GS1 mod-10)."""
    body = "0" + "".join(str(rng.randint(0, 9)) for _ in range(11))
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def gtin13_for(key: str) -> str:
    """A GTIN-13 with a correct check digit derived from ``key`` (draws nothing from the seed's rng)."""
    body = "0" + str(int(hashlib.sha256(key.encode()).hexdigest(), 16) % 10**11).zfill(11)
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def _money(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(f"{rng.randint(low, high)}.{rng.choice(['00', '50', '95', '99'])}")


def _categories(progress: Progress) -> list[tuple[Category, tuple]]:
    leaves = []
    for top_name, children in TREE.items():
        top = Category(name=top_name, slug=slugify(top_name), google_category=TOP_GOOGLE[top_name])
        top.save()
        for spec in children:
            child = Category(name=spec[0], slug=slugify(spec[0]), parent=top, google_category=spec[1])
            child.save()
            leaves.append((child, spec))
    _say(progress, f"  {len(leaves) + len(TREE)} categories")
    return leaves


def _variants_for(rng: random.Random, product: Product, sizes: list[str], index: int) -> list[Variant]:
    colours = rng.sample(list(COLORS), 3)
    count = rng.choice([1, 2, 2, 3, 3, 3])
    combos = [(colours[0], s) for s in rng.sample(sizes, min(count, len(sizes)))] if sizes else []
    if len(combos) < count:  # no sizes (or too few): vary the colour instead
        combos += [(c, sizes[0] if sizes else "") for c in colours[len(combos):count]]
    order = {s: i for i, s in enumerate(sizes)}
    out = []
    for n, (colour, size) in enumerate(sorted(combos[:count], key=lambda c: order.get(c[1], 0))):
        roll = rng.random()
        stock = 0 if roll < 0.12 else rng.randint(1, 4) if roll < 0.3 else rng.randint(5, 60)
        override = None
        if product.sale_price is None and size in ("XL", "King", "Large") and rng.random() < 0.5:
            override = product.price + Decimal("5.00")
        sku = f"HP{index:04d}-{n + 1}"
        # A product with a GTIN: each variant is its own trade item with its own GTIN (the first keeps
        # the product's), so no two feed items share one. Derived from the sku: the rng sequence stays.
        gtin = "" if not product.gtin else product.gtin if n == 0 else gtin13_for(sku)
        out.append(Variant(product=product, sku=sku, size=size, color=colour, price_override=override,
                           stock=stock, gtin=gtin))
    return out


def seed_store(*, products: int = 300, customers: int = 60, progress: Progress = None) -> dict[str, int]:
    """Fill an empty demo store; the same arguments always give the same store.

    Returns counts of what was made. Products get 1–3 variants, Pillow pictures (a second angle
    for some), sale prices with dates on some, GTINs or MPNs; customers get 1–4 paid orders each.
    """
    rng = random.Random(SEED)
    now = timezone.now().replace(microsecond=0)
    with transaction.atomic():
        leaves = _categories(progress)
        names: set[str] = set()
        made: list[tuple[Product, tuple, str]] = []
        for index in range(products):
            category, spec = leaves[index % len(leaves)]
            _, _google, shape, sizes, gender, (low, high), nouns = spec
            name = f"{rng.choice(ADJECTIVES)} {rng.choice(nouns)}"
            for _ in range(20):
                if name not in names:
                    break
                name = f"{rng.choice(ADJECTIVES)} {rng.choice(nouns)}"
            else:  # a big seed ran out of pleasant names
                name = f"{name} No. {index + 1}"
            names.add(name)
            price = _money(rng, low, high)
            brand = rng.choice(BRANDS)
            product = Product(
                name=name, slug=slugify(name), category=category, brand=brand, price=price,
                description=(f"The {name.lower()} in {rng.choice(MATERIALS)}, from {brand}. "
                             f"{rng.choice(BLURBS)}\n\nFree shipping and free returns on every demo order."),
                gender=gender, age_group="adult" if gender else "", created_at=now - timedelta(days=rng.randint(0, 120)),
                is_active=rng.random() > 0.02,
            )
            if rng.random() < 0.5:
                product.gtin = gtin13(rng)
            else:
                product.mpn = f"{product.brand[:3].upper()}-{rng.randint(10000, 99999)}"
            if rng.random() < 0.28:
                product.sale_price = (price * Decimal(rng.choice(["0.6", "0.7", "0.75", "0.8"]))).quantize(Decimal("1")) - Decimal("0.01")
                timing = rng.random()
                if timing < 0.7:  # running now
                    product.sale_starts_at = now - timedelta(days=rng.randint(1, 10))
                    product.sale_ends_at = now + timedelta(days=rng.randint(3, 21))
                elif timing < 0.85:  # no dates: on sale until further notice
                    pass
                else:  # starts later
                    product.sale_starts_at = now + timedelta(days=rng.randint(2, 7))
                    product.sale_ends_at = product.sale_starts_at + timedelta(days=7)
            made.append((product, spec, rng.choice(ACCENTS)))
        Product.objects.bulk_create([p for p, _, _ in made])
        _say(progress, f"  {len(made)} products")

        variants = [v for i, (p, spec, _) in enumerate(made) for v in _variants_for(rng, p, spec[3], i + 1)]
        Variant.objects.bulk_create(variants)
        _say(progress, f"  {len(variants)} variants")

        first_colour = {v.product_id: v.color for v in reversed(variants)}
        images = []
        for product, spec, accent in made:
            colour = COLORS.get(first_colour.get(product.pk, ""), "#4a4f57")
            for view in (1, 2) if rng.random() < 0.4 else (1,):
                data = product_image(product.name, shape=spec[2], colour=colour, accent=accent, view=view, seed=product.slug)
                name = f"products/{product.slug}-{view}.jpg"
                if default_storage.exists(name):
                    default_storage.delete(name)
                images.append(ProductImage(product=product, image=default_storage.save(name, ContentFile(data)), position=view))
        ProductImage.objects.bulk_create(images)
        _say(progress, f"  {len(images)} product images (Pillow, 800x800 JPEG)")

        customer_count, order_count = _customers_and_orders(rng, now, customers, [v for v in variants if v.product.is_active])
        _say(progress, f"  {customer_count} customers with {order_count} past orders")
    return {
        "categories": Category.objects.count(), "products": len(made), "variants": len(variants),
        "images": len(images), "customers": customer_count, "orders": order_count,
    }


def _customers_and_orders(rng: random.Random, now, count: int, variants: list[Variant]) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    user_model = get_user_model()
    password = make_password(CUSTOMER_PASSWORD)  # hashed once: 60 hashes would take seconds
    users = []
    for i in range(count):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        email = f"{first}.{last}{i + 1}@example.com".lower()
        users.append(user_model(username=email, email=email, first_name=first, last_name=last, password=password,
                                date_joined=now - timedelta(days=rng.randint(90, 400))))
    user_model.objects.bulk_create(users)
    users = list(user_model.objects.filter(username__in=[u.username for u in users]).order_by("pk"))
    orders: list[Order] = []
    pending_lines: list[list[tuple[Variant, int]]] = []
    numbers: set[str] = set()
    for user in users:
        street, (city, postcode, country) = rng.choice(STREETS), rng.choice(CITIES)
        address = f"{rng.randint(1, 299)} {street}"
        for _ in range(rng.randint(1, 4)):
            created = now - timedelta(days=rng.randint(0, 89), minutes=rng.randint(0, 1439))
            picks = rng.sample(variants, rng.randint(1, 3)) if variants else []
            lines = [(v, rng.choice([1, 1, 1, 2])) for v in picks]
            number = f"D{created:%y%m%d}-{rng.getrandbits(24):06X}"
            while number in numbers:
                number = f"D{created:%y%m%d}-{rng.getrandbits(24):06X}"
            numbers.add(number)
            orders.append(Order(
                number=number, user=user, email=user.email, first_name=user.first_name, last_name=user.last_name,
                phone=f"+1 555 01{rng.randint(10, 99)}", address=address, city=city, postcode=postcode, country=country,
                status=Order.Status.PAID, total=sum((v.unit_price() * q for v, q in lines), Decimal("0.00")),
                created_at=created, paid_at=created + timedelta(minutes=rng.randint(1, 9)),
            ))
            pending_lines.append(lines)
    Order.objects.bulk_create(orders)
    OrderLine.objects.bulk_create([
        OrderLine(order=order, product=v.product, variant=v, catalog_id=v.sku, title=f"{v.product.name} ({v.label})",
                  quantity=q, unit_price=v.unit_price())
        for order, lines in zip(orders, pending_lines) for v, q in lines
    ])
    return len(users), len(orders)


def store_is_empty() -> bool:
    """True when the demo store has no products yet (the demo command seeds only then)."""
    return not Product.objects.exists()


def seed_store_step(progress: Progress) -> None:
    """First seed step: the store, sized by SHOP_DEMO_PRODUCTS / SHOP_DEMO_CUSTOMERS (300 / 60)."""
    products = int(os.environ.get("SHOP_DEMO_PRODUCTS") or 300)
    customers = int(os.environ.get("SHOP_DEMO_CUSTOMERS") or 60)
    _say(progress, f"Seeding the store ({products} products, {customers} customers)")
    seed_store(products=products, customers=customers, progress=progress)


# The steps a first seed runs, in order; each takes a progress callable (or None).
# Add yours with one line: SEED_STEPS.append(my_step)
SEED_STEPS: list[Callable[[Progress], None]] = [seed_store_step]


def run_seed_steps(progress: Progress = None) -> int:
    """Run every step of ``SEED_STEPS`` in order; returns how many ran.

    One transaction: a first seed cut short (Ctrl-C, an error) leaves the store empty, so the
    next ``manage.py demo`` seeds again from the start instead of skipping the missing steps.
    """
    with transaction.atomic():
        for step in SEED_STEPS:
            started = time.monotonic()
            step(progress)
            _say(progress, f"  ({step.__name__} took {time.monotonic() - started:.1f}s)")
    return len(SEED_STEPS)

from shop_demo.store.seed_posts import seed_posts_step  # noqa: E402 - seed steps register at the bottom
SEED_STEPS.append(seed_posts_step)
from shop_demo.store.seed_traffic import simulate_traffic_step  # noqa: E402 - after the posts: it engages with them
SEED_STEPS.append(simulate_traffic_step)
from shop_demo.store.seed_feeds import seed_feeds_step  # noqa: E402
SEED_STEPS.append(seed_feeds_step)
from shop_demo.store.seed_audiences import seed_audiences_step  # noqa: E402
SEED_STEPS.append(seed_audiences_step)
from shop_demo.store.seed_campaigns import seed_campaigns_step  # noqa: E402 - after the audiences: it targets one
SEED_STEPS.append(seed_campaigns_step)
from shop_demo.store.seed_creatives import seed_creatives_step  # noqa: E402 - after the campaign it draws for
SEED_STEPS.append(seed_creatives_step)
from shop_demo.store.seed_results import seed_results_step  # noqa: E402 - after the campaign: a week of its results
SEED_STEPS.append(seed_results_step)
