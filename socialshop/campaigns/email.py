"""The abandoned-cart email channel: ``send_cart_reminders(*, now, campaign, progress) -> ReminderRun``.

Who is due comes from ``targeted_persons`` (campaigns/targeting.py); address, consent and cart from the
host's contact adapter (campaigns/contacts.py); products from the catalog; the code from ``issue_code``;
the message itself from campaigns/messages.py. Each email is claimed (an ``EmailSend`` row,
unique per campaign, person and message number) before it is sent, so it goes out at most once.
"""
from __future__ import annotations

import logging
import secrets
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core.mail import BadHeaderError, get_connection
from django.db.models import F
from django.utils import timezone

from socialshop.campaigns.contacts import Cart, ContactAdapter, NO_ADAPTER, events_of, load_contact_adapter
from socialshop.campaigns.incentives import issue_code
from socialshop.campaigns.messages import address_problem, build_message
from socialshop.campaigns.picks import picks_by_person
from socialshop.campaigns.models import (
    EMAIL, Campaign, CampaignStatus, EmailSend, EmailSendStatus, IssuedCode, Touch, Variant,
)
from socialshop.campaigns.targeting import Target, targeted_persons
from socialshop.catalog import Availability, ProductRecord, get_catalog
from socialshop.conf import app_settings
from socialshop.exceptions import ConfigurationError, SocialshopError

logger = logging.getLogger(__name__)

BATCH = 200  # persons per batch: a constant number of queries each, plus the adapter calls and the sends
PICKS_IN_EMAIL = 3  # "picked for you" products under the cart (campaigns/picks.py), not already in it
MAX_ATTEMPTS = 3  # sends of one email that failed (SMTP down, ...) before it is left failed for good
# Reasons a due person got no email, as the summary counts them.
SKIP_REASONS = {
    "not_due": "the next reminder's delay has not passed",
    "all_sent": "every configured reminder was sent",
    "in_progress": "another run holds this email (or sent it)",
    "gave_up": f"the email failed {MAX_ATTEMPTS} times",
    "purchased": "bought since the cart was left",
    "no_address": "the store has no address for the person",
    "bad_address": "the address or name could inject headers or recipients",
    "no_consent": "no marketing consent where the store requires it",
    "empty_cart": "the cart is empty",
    "product_deleted": "every product in the cart was deleted",
    "out_of_stock": "every product left in the cart is out of stock",
    "adapter_error": "the contact adapter or the catalog failed (see the log)",
    "campaign_stopped": "the campaign ended or was paused while the run went on",
}


@dataclass(frozen=True, slots=True)
class ReminderRun:
    """What one run did: emails sent and failed, due persons skipped by reason, campaigns stopped mid-run."""

    sent: int = 0
    failed: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    campaigns: tuple[str, ...] = ()
    stopped: tuple[str, ...] = ()
    message: str = ""

    def summary(self) -> str:
        """One line: "sent 3, failed 0, skipped 5 (purchased 2, no_consent 3)"."""
        skipped = sum(self.skipped.values())
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(self.skipped.items()))
        line = f"sent {self.sent}, failed {self.failed}, skipped {skipped}" + (f" ({reasons})" if reasons else "")
        if self.stopped:
            line += f"; stopped (campaign no longer running): {', '.join(self.stopped)}"
        return line + (f"; {self.message}" if self.message else "")


@dataclass(slots=True)
class _Tally:
    sent: int = 0
    failed: int = 0
    skipped: Counter = field(default_factory=Counter)
    campaigns: list[str] = field(default_factory=list)
    stopped: list[str] = field(default_factory=list)

    def frozen(self, message: str = "") -> ReminderRun:
        return ReminderRun(sent=self.sent, failed=self.failed, skipped={k: v for k, v in self.skipped.items() if v}, campaigns=tuple(self.campaigns),
                           stopped=tuple(self.stopped), message=message)


def send_cart_reminders(*, now: datetime | None = None, campaign: Campaign | None = None,
                        progress: Callable[[str], None] | None = None, batch_size: int = BATCH) -> ReminderRun:
    """Send every abandoned-cart email that is due at ``now`` for each running campaign on "email" (or ``campaign``).

    Safe to run twice at once: each email is claimed before it is sent, so two runs send it once. An email
    whose send fails is marked failed and tried again by a later run (at most ``MAX_ATTEMPTS`` times).
    """
    now = now or timezone.now()
    tally = _Tally()
    try:
        adapter = load_contact_adapter()
    except ConfigurationError as exc:
        return tally.frozen(str(exc))
    if adapter is None:
        return tally.frozen(NO_ADAPTER)
    site = str(app_settings.SITE_URL or "").rstrip("/")
    if not site:
        return tally.frozen("SOCIALSHOP['SITE_URL'] is empty: emails need absolute links, so none were sent")
    chosen = [campaign] if campaign is not None else Campaign.objects.filter(status=CampaignStatus.RUNNING).order_by("pk")
    connection = get_connection()
    try:
        for item in chosen:
            if EMAIL in (item.channels or []) and item.effective_status(now) == CampaignStatus.RUNNING:
                if reminder_minutes(item) is None:
                    logger.error("campaign %s: email_reminder_minutes %r is not a rising list of minutes; no email sent",
                                 item.slug, item.email_reminder_minutes)
                    tally.stopped.append(item.slug)
                    continue
                tally.campaigns.append(item.slug)
                _send_campaign(item, adapter=adapter, now=now, site=site, tally=tally, connection=connection,
                               progress=progress, batch_size=max(int(batch_size), 1))
    finally:
        connection.close()
    run = tally.frozen()
    logger.info("cart reminders: %s", run.summary())
    return run


def _send_campaign(campaign: Campaign, *, adapter: ContactAdapter, now: datetime, site: str, tally: _Tally,
                   connection: Any, progress: Callable[[str], None] | None, batch_size: int) -> None:
    targets = targeted_persons(campaign, channel=EMAIL, now=now)
    variants = {v.pk: v for v in campaign.variants.all()}
    done = 0
    for start in range(0, len(targets), batch_size):
        # A campaign paused or ended while we run stops at the next batch (targeted_persons re-reads it too).
        campaign.refresh_from_db(fields=["status", "starts_at", "ends_at"])
        if campaign.effective_status(now) != CampaignStatus.RUNNING or campaign.effective_status() == CampaignStatus.ENDED:
            tally.stopped.append(campaign.slug)
            tally.skipped["campaign_stopped"] += len(targets) - start
            return
        batch = targets[start:start + batch_size]
        _send_batch(campaign, batch, variants=variants, adapter=adapter, now=now, site=site, tally=tally, connection=connection)
        done += len(batch)
        if progress:
            progress(f"{campaign.slug}: {done}/{len(targets)} due persons looked at, {tally.sent} sent so far")


def reminder_minutes(campaign: Campaign) -> list[int] | None:
    """The campaign's reminder delays in minutes, or None when the stored value is not a rising list of them
    (the model's ``clean`` refuses that; a value written around it stops the campaign's email, not the run)."""
    value = campaign.email_reminder_minutes
    if not isinstance(value, list) or not all(isinstance(m, int) and not isinstance(m, bool) and m >= 0 for m in value):
        return None
    return value if value == sorted(value) else None


def _due(campaign: Campaign, batch: Sequence[Target], *, now: datetime, tally: _Tally) -> list[tuple[Target, int]]:
    """(target, message number) of the batch whose next reminder is due now: one query for their earlier emails."""
    reminders = reminder_minutes(campaign) or []
    rows: dict[tuple[str, int], dict[str, Any]] = {}
    last_sent: dict[str, datetime] = {}
    for row in EmailSend.objects.filter(campaign=campaign, person__in=[t.person for t in batch]).values(
            "person", "number", "status", "attempts", "sent_at"):
        rows[(row["person"], row["number"])] = row
        if row["sent_at"] is not None and (row["person"] not in last_sent or row["sent_at"] > last_sent[row["person"]]):
            last_sent[row["person"]] = row["sent_at"]
    due = []
    for target in batch:
        number = target.messages_sent + 1
        if number > len(reminders):
            tally.skipped["all_sent"] += 1
            continue
        # Reminder n is due its delay after the action and, after an earlier email, its gap after that one:
        # a first email sent late (say at 20 h) does not bring the 24 h one four hours later.
        due_at = target.qualified_at + timedelta(minutes=reminders[number - 1])
        if number > 1 and target.person in last_sent:
            due_at = max(due_at, last_sent[target.person] + timedelta(minutes=reminders[number - 1] - reminders[number - 2]))
        row = rows.get((target.person, number))
        if now < due_at:
            tally.skipped["not_due"] += 1
        elif row is not None and row["status"] != EmailSendStatus.FAILED:
            tally.skipped["in_progress"] += 1
        elif row is not None and row["attempts"] >= MAX_ATTEMPTS:
            tally.skipped["gave_up"] += 1
        else:
            due.append((target, number))
    return due


def _purchased(due: list[tuple[Target, int]]) -> set[str]:
    """Persons of ``due`` with a Purchase (any device) at or after their qualifying action: one query."""
    if not due:
        return set()
    since = {t.person: t.qualified_at for t, _ in due}
    rows = events_of(list(since), names=("Purchase",), since=min(since.values()))
    return {person for person, _name, at, _c, _i in rows if at >= since[person]}


def _usable(cart: Cart, records: dict[str, ProductRecord]) -> tuple[list[tuple[Any, ProductRecord]], str]:
    """The cart lines still for sale with their records, and why there are none ("" when there are some)."""
    if not cart.lines:
        return [], "empty_cart"
    kept, missing, sold_out = [], 0, 0
    for line in cart.lines:
        record = records.get(line.catalog_id)
        if record is None:
            missing += 1  # deleted or no longer sold: the line is dropped
        elif record.availability == Availability.OUT_OF_STOCK or record.quantity == 0:
            sold_out += 1
        else:
            kept.append((line, record))
    if kept:
        return kept, ""
    return [], "out_of_stock" if sold_out else "product_deleted"


def _send_batch(campaign: Campaign, batch: Sequence[Target], *, variants: dict[int, Variant], adapter: ContactAdapter,
                now: datetime, site: str, tally: _Tally, connection: Any) -> None:
    due = _due(campaign, batch, now=now, tally=tally)
    bought = _purchased(due)
    tally.skipped["purchased"] += sum(1 for t, _ in due if t.person in bought)
    due = [(t, n) for t, n in due if t.person not in bought]
    if not due:
        return
    try:
        contacts = adapter.contacts([t.person for t, _ in due])
        reachable = []
        for target, number in due:
            contact = contacts.get(target.person)
            problem = address_problem(contact) if contact is not None else ""
            if contact is None or not contact.email:
                tally.skipped["no_address"] += 1
            elif problem:
                tally.skipped["bad_address"] += 1
                logger.warning("campaign %s: no email to %s: %s", campaign.slug, target.person, problem)
            elif not contact.consent:
                tally.skipped["no_consent"] += 1
            else:
                reachable.append((target, number, contact))
        carts = adapter.carts({t.person: t.qualified_at for t, _, _ in reachable}) if reachable else {}
        picked = picks_by_person(campaign, [t.person for t, _, _ in reachable]) if reachable else {}
        ids = {line.catalog_id for cart in carts.values() for line in cart.lines} | {i for v in picked.values() for i in v}
        records = get_catalog().get_records(sorted(ids)) if ids else {}
    except Exception:  # the host's code (adapter, catalog): one bad batch must not stop the other campaigns
        logger.exception("campaign %s: the contact adapter or the catalog failed", campaign.slug)
        tally.skipped["adapter_error"] += len(due)
        return
    ready = []
    for target, number, contact in reachable:
        lines, why = _usable(carts.get(target.person) or Cart(lines=()), records)
        if why:
            tally.skipped[why] += 1
        else:
            in_cart = {record.id for _, record in lines}
            picks = [records[i] for i in picked.get(target.person, ())
                     if i not in in_cart and i in records and records[i].availability != Availability.OUT_OF_STOCK and records[i].quantity != 0][:PICKS_IN_EMAIL]
            ready.append((target, number, contact, lines, carts[target.person], picks))
    if ready:
        _claim_and_send(campaign, ready, variants=variants, now=now, site=site, tally=tally, connection=connection)


def _claim_and_send(campaign: Campaign, ready: list[tuple[Any, ...]], *, variants: dict[int, Variant], now: datetime,
                    site: str, tally: _Tally, connection: Any) -> None:
    """Claim each email (insert its row, or take over a failed one), send the ones this run won, record them."""
    claim = secrets.token_hex(16)
    EmailSend.objects.bulk_create([
        EmailSend(campaign=campaign, person=t.person, number=n, variant_id=t.variant_id, claim=claim, attempts=1)
        for t, n, *_ in ready], ignore_conflicts=True)
    # Failed before: the conditional UPDATE lets one run take it over (the other finds the status changed).
    EmailSend.objects.filter(campaign=campaign, person__in=[t.person for t, *_ in ready], status=EmailSendStatus.FAILED,
                             attempts__lt=MAX_ATTEMPTS).update(status=EmailSendStatus.SENDING, claim=claim,
                                                               attempts=F("attempts") + 1)
    won = {(row.person, row.number): row for row in EmailSend.objects.filter(claim=claim, status=EmailSendStatus.SENDING)}
    codes = {c.person: c for c in IssuedCode.objects.filter(campaign=campaign, person__in=[p for p, _ in won])}
    finished, touches = [], []
    for target, number, contact, lines, cart, picks in ready:
        row = won.get((target.person, number))
        if row is None:
            tally.skipped["in_progress"] += 1
            continue
        variant = variants.get(target.variant_id)
        code = codes.get(target.person)
        if (code is None and campaign.has_incentive and variant is not None and variant.offers_incentive
                and number >= variant.incentive_from_message):  # the store's adapter issues it: one call per new code
            try:
                code = issue_code(campaign, person=target.person, variant=variant, now=now)
            except (ConfigurationError, SocialshopError):
                logger.exception("campaign %s: no code for this email", campaign.slug)
        if code is not None and (code.redeemed_at is not None or variant is None or not variant.offers_incentive
                                 or number < variant.incentive_from_message):
            code = None
        message = build_message(campaign, target.person, number=number, variant=variant, contact=contact, lines=lines,
                                cart=cart, code=code, site=site, connection=connection, send_id=row.pk, picks=picks)
        try:
            message.send()
        except BadHeaderError as exc:
            row.status, row.error = EmailSendStatus.FAILED, f"refused header: {exc}"[:300]
            row.attempts = MAX_ATTEMPTS  # the same input would be refused again
            logger.warning("campaign %s: email %s to %s refused: %s", campaign.slug, number, target.person, exc)
        except Exception as exc:  # SMTP down, refused by the provider, ...: try again next run
            row.status, row.error = EmailSendStatus.FAILED, f"{type(exc).__name__}: {exc}"[:300]
            logger.warning("campaign %s: email %s to %s failed: %s", campaign.slug, number, target.person, row.error)
        else:
            row.status, row.sent_at, row.error, row.code = EmailSendStatus.SENT, now, "", code.code if code else ""
            touches.append(Touch(person=target.person, campaign=campaign, channel=EMAIL, at=now))
        finished.append(row)
    _record(finished, now=now)
    Touch.objects.bulk_create(touches)  # the caps count these (record_touch, for a whole batch at once)
    tally.sent += len(touches)
    tally.failed += len(finished) - len(touches)


def _record(rows: list[EmailSend], *, now: datetime) -> None:
    """Write the batch's outcomes in at most three statements: one UPDATE for every sent email, one for the
    codes they carried, one for the failures (``bulk_update`` over all fields took ~2 s per 200 rows)."""
    sent = [row for row in rows if row.status == EmailSendStatus.SENT]
    if sent:
        EmailSend.objects.filter(pk__in=[row.pk for row in sent]).update(status=EmailSendStatus.SENT, sent_at=now, error="")
    with_code = [row for row in sent if row.code]
    if with_code:
        EmailSend.objects.bulk_update(with_code, ["code"])
    failed = [row for row in rows if row.status == EmailSendStatus.FAILED]
    if failed:
        EmailSend.objects.bulk_update(failed, ["status", "error", "attempts"])
