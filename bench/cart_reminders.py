"""Abandoned-cart email benchmark: ``send_cart_reminders`` for N due customers against Django alone
rendering the same two templates and sending the same number of messages (locmem backend both times).

Runs in a throwaway test database (SQLite by default, PostgreSQL when DATABASE_URL is set). The last
line prints the emails-per-second ratio (socialshop / bare Django) and the queries per batch of 200,
which must not grow with N (compare --persons 400 and 2000).

    python bench/cart_reminders.py                  # 2,000 customers
    python bench/cart_reminders.py --persons 400
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=2000)
    persons = parser.parse_args().persons
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop_demo.settings")
    os.environ["SHOP_DEMO_VAR"] = tempfile.mkdtemp(prefix="ss-bench-mail-")
    import django
    from django.conf import settings

    django.setup()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    from django.contrib.auth import get_user_model
    from django.core import mail
    from django.core.mail import EmailMultiAlternatives
    from django.db import connection
    from django.template.loader import render_to_string
    from django.test.utils import CaptureQueriesContext, setup_test_environment
    from django.utils import timezone

    from shop_demo.store.models import Category, Order, Product, Variant
    from socialshop.audiences.models import Audience, AudienceMember, RuleKind
    from socialshop.campaigns.email import BATCH, send_cart_reminders
    from socialshop.campaigns.models import Campaign, CampaignStatus, Variant as ArmVariant
    from socialshop.campaigns.targeting import refresh_campaign
    from socialshop.tracking.models import Event

    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    if connection.vendor == "sqlite":
        connection.settings_dict.setdefault("TEST", {})["NAME"] = str(Path(os.environ["SHOP_DEMO_VAR"]) / "bench.sqlite3")
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        now = timezone.now()
        category = Category.objects.create(name="Bench", slug="bench")
        Product.objects.bulk_create([Product(name=f"Bench product {i}", slug=f"bench-{i}", category=category,
                                             price=Decimal("20.00")) for i in range(persons)])
        products = list(Product.objects.order_by("pk"))
        Variant.objects.bulk_create([Variant(product=p, sku=f"B-{i}", size="M", stock=5) for i, p in enumerate(products)])
        users = get_user_model().objects.bulk_create([get_user_model()(username=f"b{i}", email=f"b{i}@example.com",
                                                                       first_name="Bench") for i in range(persons)])
        users = list(get_user_model().objects.order_by("pk"))
        Order.objects.bulk_create([Order(number=f"B{i:07d}", user=u, email=u.email, first_name="B", last_name="B",
                                         address="1", city="x", postcode="1", status=Order.Status.PAID)
                                   for i, u in enumerate(users)])
        at = now - timedelta(hours=2)
        Event.objects.bulk_create([Event(event_id=f"b{i}", name="AddToCart", occurred_at=at, received_at=at, user_id=u.pk,
                                         content_ids=[f"B-{i}"], contents=[{"id": f"B-{i}", "quantity": 1, "item_price": 20}])
                                   for i, u in enumerate(users)], batch_size=1000)
        audience = Audience.objects.create(name="Bench carts", slug="bench-carts", kind=RuleKind.CART_ABANDONERS)
        AudienceMember.objects.bulk_create([AudienceMember(audience=audience, person=f"u:{u.pk}", qualified_at=at, joined_at=at)
                                            for u in users], batch_size=1000)
        campaign = Campaign.objects.create(name="Bench", slug="bench", status=CampaignStatus.RUNNING, channels=["email"],
                                           holdout_percent=0, max_age_hours=48)
        campaign.audiences.add(audience)
        ArmVariant.objects.create(campaign=campaign, name="A", subject="You left something in your cart")
        refresh_campaign(campaign, now=now)

        started, cpu = time.perf_counter(), time.process_time()
        with CaptureQueriesContext(connection) as queries:
            result = send_cart_reminders(now=now)
        ours, ours_cpu = time.perf_counter() - started, time.process_time() - cpu
        assert result.sent == persons == len(mail.outbox), result.summary()
        if os.environ.get("BENCH_SHOW_QUERIES"):
            for q in sorted(queries.captured_queries, key=lambda q: -float(q["time"]))[:6]:
                print(q["time"], q["sql"][:300])
        batches = -(-persons // BATCH)

        mail.outbox.clear()
        context = {"name": "Bench", "number": 1, "items": [{"title": "Bench product", "quantity": 1, "price": "$20.00",
                   "total": "$20.00", "image": "", "url": ""}], "cart_url": "https://x/c/", "unsubscribe_url": "https://x/u/",
                   "site": "https://x", "code": "", "variant": None, "campaign": campaign}
        started, cpu = time.perf_counter(), time.process_time()
        for i in range(persons):
            message = EmailMultiAlternatives("You left something in your cart",
                                             render_to_string("socialshop/email/cart_reminder.txt", context),
                                             to=[f"Bench <b{i}@example.com>"])
            message.attach_alternative(render_to_string("socialshop/email/cart_reminder.html", context), "text/html")
            message.send()
        bare, bare_cpu = time.perf_counter() - started, time.process_time() - cpu
        print(f"{connection.vendor}: {persons} emails in {ours:.2f} s ({persons / ours:,.0f}/s, CPU {ours_cpu:.2f} s); bare Django "
              f"{bare:.2f} s ({persons / bare:,.0f}/s, CPU {bare_cpu:.2f} s); {len(queries)} queries in {batches} batches; "
              f"CPU ratio {bare_cpu / ours_cpu:.2f}")
        print(f"cart reminders/bare emails per second ratio: {bare / ours:.2f}; "
              f"queries per batch of {BATCH}: {(len(queries) - 4) / batches:.1f}")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
