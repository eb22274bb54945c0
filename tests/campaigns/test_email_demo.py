"""The demo's campaign "Come back for your cart": seeded as the brief says, its simulated signed-in
customers make due members with an address, and one send writes readable email files (the demo's
file backend), each with the code only from the second email."""
from __future__ import annotations

from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest

from shop_demo import settings as demo_settings
from shop_demo.store.seed import SEED_STEPS, seed_store
from shop_demo.store.seed_audiences import seed_audiences_step
from shop_demo.store.seed_campaigns import SLUG, seed_campaigns_step
from socialshop.campaigns.email import send_cart_reminders
from socialshop.campaigns.models import Campaign, CampaignStatus, EmailSend, IncentiveKind
from socialshop.core.jobs import PERIODIC_JOBS
from socialshop.tracking.simulate import simulate_traffic

pytestmark = pytest.mark.django_db


def test_the_seed_step_runs_after_the_audiences_and_the_jobs_refresh_before_sending() -> None:
    names = [step.__name__ for step in SEED_STEPS]
    assert names.index("seed_audiences_step") < names.index("seed_campaigns_step")
    tasks = [job.task for job in PERIODIC_JOBS]
    assert tasks.index("socialshop.refresh_campaigns") < tasks.index("socialshop.send_cart_reminders")
    assert {job.every for job in PERIODIC_JOBS if job.task.endswith(("refresh_campaigns", "send_cart_reminders"))} == {300.0}
    assert demo_settings.EMAIL_BACKEND == "django.core.mail.backends.filebased.EmailBackend"
    assert Path(demo_settings.EMAIL_FILE_PATH) == Path(demo_settings.VAR_DIR) / "mail"


def test_the_demo_campaign_emails_signed_in_cart_abandoners_as_files(settings: Any, tmp_path: Path) -> None:
    seed_store(products=15, customers=12)
    simulate_traffic(visitors=300, days=14, seed=7)
    seed_audiences_step(None)
    lines: list[str] = []
    seed_campaigns_step(lines.append)
    campaign = Campaign.objects.get(slug=SLUG)
    assert (campaign.name, campaign.status, campaign.channels) == ("Come back for your cart", CampaignStatus.RUNNING, ["email"])
    assert [a.slug for a in campaign.audiences.all()] == ["cart-abandoners-7d"]
    assert (campaign.min_delay_minutes, campaign.max_age_hours, campaign.holdout_percent) == (60, 168, 10)
    assert campaign.email_reminder_minutes == [60, 1440]
    assert (campaign.incentive_kind, campaign.incentive_amount) == (IncentiveKind.PERCENT, 10)
    variants = list(campaign.variants.all())
    assert len(variants) == 2 and len({v.subject for v in variants}) == 2
    assert {v.incentive_from_message for v in variants} == {2}
    assert any("members assigned" in line for line in lines)

    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path)
    result = send_cart_reminders()
    assert result.sent > 0, result.summary()
    files = sorted(tmp_path.glob("*.log"))
    assert files
    text = b"".join(f.read_bytes() for f in files)
    assert text.count(b"\nList-Unsubscribe-Post: List-Unsubscribe=One-Click") == result.sent
    first = message_from_bytes(files[0].read_bytes().split(b"\n" + b"-" * 79)[0])
    assert first["Subject"] in {v.subject for v in variants} and "Your code" not in text.decode()
    assert not EmailSend.objects.filter(person__startswith="v:").exists()  # only customers with an account


def test_simulated_visitors_sign_in_as_the_given_accounts_only_with_consent() -> None:
    from socialshop.tracking.models import Event
    from tests.factories import UserFactory

    seed_store(products=6, customers=0)
    users = [UserFactory().pk for _ in range(2)]
    simulate_traffic(visitors=60, days=3, seed=3, users=users)
    signed_in = set(Event.objects.exclude(user_id=None).values_list("user_id", flat=True))
    assert signed_in == set(users)
    assert not Event.objects.filter(visitor_id="").exclude(user_id=None).exists()  # no consent: never signed in
    before = Event.objects.count()
    simulate_traffic(visitors=20, days=3, seed=3)  # without users: anonymous, as before
    assert not Event.objects.filter(pk__gt=0).exclude(user_id=None).exclude(user_id__in=users).exists()
    assert Event.objects.count() > before
