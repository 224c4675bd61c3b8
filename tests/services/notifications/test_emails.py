"""Each email kind: recipient, subject, both parts, items, quantities, ETAs, tracking, links."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.db import transaction
from django.utils import timezone

from backorders.models import Backorder, Notification, Order, Suppression
from backorders.services.audit import Actor
from backorders.services.checkout import LineInput, order_record
from backorders.services.lifecycle import Tracking, backorder_cancel, order_cancel, order_fulfill
from backorders.services.notifications.outbox import notifications_sweep
from backorders.services.stock import stock_set_available
from tests.factories import next_id

PLATFORM = Actor.platform("test")


def html_of(message) -> str:
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return html


def self_service_path(text: str) -> str:
    start = text.index("http://127.0.0.1:8000/backorders/order/")
    return text[start:].split()[0].removeprefix("http://127.0.0.1:8000")


def test_confirmation_is_one_email_per_order_listing_every_short_line(
    make_backordered, place, commit, browser
):
    mugs, plates, bowls = make_backordered("Mug"), make_backordered("Plate"), make_backordered("Bowl")
    with commit():
        order = place({mugs: 1, plates: 2, bowls: 3}, accepted=True, customer_name="Ada")

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [order.email]
    assert message.from_email == "Acme <backorders@example.com>"
    assert message.reply_to == ["owner@acme.test"]
    assert message.subject == f"Acme: your order {order.number} has items on backorder"
    assert "Hello Ada," in message.body
    for line in ("- 1 × Mug", "- 2 × Plate", "- 3 × Bowl"):
        assert line in message.body
    assert message.body.count("expected to ship by March 2, 2027") == 3
    html = html_of(message)
    assert "<strong>2 × Plate</strong>" in html and "expected to ship by March 2, 2027" in html
    row = Notification.objects.get()
    assert (row.kind, row.status, row.recipient, row.order_id) == (
        "confirmation",
        "sent",
        order.email,
        order.pk,
    )
    assert set(row.backorders.all()) == set(order.backorders.all())
    # The link in the email opens this order's page.
    response = browser.get(self_service_path(message.body))
    assert response.status_code == 200
    assert order.number in response.content.decode()


def test_confirmation_names_the_eta_source_in_words(shop, make_variant, place, commit):
    shop.restock_lead_days = 10
    shop.save()
    estimated = make_variant(stock=0, inventory_policy="continue", product__title="Teapot")
    with commit():
        place({estimated: 1}, accepted=True)
    shop.restock_lead_days = None
    shop.save()
    unknown = make_variant(stock=0, inventory_policy="continue", product__title="Kettle")
    with commit():
        place({unknown: 1}, accepted=True)
    first, second = mail.outbox
    assert "- 1 × Teapot (SKU-" in first.body and ": estimated to ship by" in first.body
    assert "- 1 × Kettle (SKU-" in second.body
    assert "ship date not known yet (we will email you as soon as we have one)" in second.body


def test_nothing_is_planned_for_an_order_without_an_email_address(shop, variant, commit):
    with commit():
        order_record(
            shop=shop,
            platform_id=next_id(),
            placed_at=timezone.now(),
            lines=[LineInput(platform_id=next_id(), variant_id=variant.pk, quantity=1)],
            actor=PLATFORM,
            accepted=True,
        )
    assert Backorder.objects.count() == 1
    assert Notification.objects.count() == 0
    assert mail.outbox == []


def test_a_rolled_back_change_plans_and_sends_nothing(variant, place, commit):
    with commit(), pytest.raises(RuntimeError), transaction.atomic():
        place({variant: 1}, accepted=True)
        raise RuntimeError("the caller's transaction fails after the order was recorded")
    assert Notification.objects.count() == 0
    assert mail.outbox == []


def test_ready_to_ship_goes_to_the_first_in_line_once_fully_allocated(variant, place, commit):
    with commit():
        first = place({variant: 2}, accepted=True)
        second = place({variant: 1}, accepted=True)
    mail.outbox.clear()
    with commit():
        stock_set_available(variant=variant, available=-1, actor=PLATFORM)  # 2 arrive: the first order's
    [message] = mail.outbox
    assert message.to == [first.email]
    assert message.subject == f"Acme: your order {first.number} is ready to ship"
    assert "- 2 × Blue Mug" in message.body and "ship them shortly" in message.body
    assert second.backorders.get().status == Backorder.Status.WAITING


def test_ready_groups_the_lines_of_one_order_allocated_together(make_backordered, place, commit):
    mugs, plates = make_backordered("Mug"), make_backordered("Plate")
    with commit():
        order = place({mugs: 1, plates: 1}, accepted=True)
    mail.outbox.clear()
    # The platform cancels another order: nothing else waits; restock both in one transaction.
    with commit(), transaction.atomic():
        stock_set_available(variant=mugs, available=0, actor=PLATFORM)
        stock_set_available(variant=plates, available=0, actor=PLATFORM)
    [message] = mail.outbox
    assert message.to == [order.email]
    assert "- 1 × Mug" in message.body and "- 1 × Plate" in message.body


def test_shipped_email_carries_the_tracking_company_number_and_link(variant, place, commit):
    with commit():
        order = place({variant: 1}, accepted=True)
    with commit():
        stock_set_available(variant=variant, available=0, actor=PLATFORM)
    mail.outbox.clear()
    with commit():
        order_fulfill(
            order=order, actor=PLATFORM, tracking=Tracking("UPS", "1Z999AA1", "https://ups.test/1Z999AA1")
        )
    [message] = mail.outbox
    assert message.subject == f"Acme: your order {order.number} has shipped"
    assert "Carrier: UPS · Tracking number: 1Z999AA1" in message.body
    assert "Track your parcel: https://ups.test/1Z999AA1" in message.body
    assert 'href="https://ups.test/1Z999AA1"' in html_of(message)


@pytest.mark.parametrize(
    ("actor", "wording"),
    [
        (Actor.customer("c@example.com"), "As you asked, we have cancelled these items of your order"),
        (Actor.admin("owner"), "Acme has cancelled these items of your order"),
    ],
)
def test_cancelled_email_says_who_cancelled_and_what_happens_to_the_payment(
    variant, place, commit, actor, wording
):
    with commit():
        order = place({variant: 2}, accepted=True)
    mail.outbox.clear()
    with commit():
        backorder_cancel(backorder=order.backorders.get(), actor=actor, reason="Changed my mind")
    [message] = [m for m in mail.outbox if m.to == [order.email]]
    assert message.subject == f"Acme: items of your order {order.number} were cancelled"
    assert wording in message.body
    assert "- 2 × Blue Mug (SKU-" in message.body and "(Changed my mind)" in message.body
    # The default promises only what is true: the shop is told (below) and refunds.
    assert "Our team has been told and will refund the cancelled items" in message.body
    [owner] = [m for m in mail.outbox if m.to == [order.shop.owner_email]]
    assert owner.subject == f"Acme: order {order.number} has cancelled items to refund"
    assert "2 × Blue Mug" in owner.body and "Changed my mind" in owner.body


def test_an_order_cancelled_on_the_platform_is_one_email_with_the_owners_payment_text(
    shop, make_backordered, place, commit
):
    shop.cancellation_payment_texts = {"en": "We refund you within 3 working days."}
    shop.save()
    mugs, plates = make_backordered("Mug"), make_backordered("Plate")
    with commit():
        order = place({mugs: 1, plates: 1}, accepted=True)
    mail.outbox.clear()
    with commit():
        order_cancel(order=Order.objects.get(pk=order.pk), actor=Actor.platform("orders/cancelled"))
    [message] = mail.outbox
    assert "was changed in our shop, and these items were cancelled" in message.body
    assert "- 1 × Mug" in message.body and "- 1 × Plate" in message.body
    assert "We refund you within 3 working days." in message.body


def test_follow_up_is_a_row_due_later_sent_by_the_sweeper_with_a_one_click_unsubscribe(
    shop, variant, place, commit, browser
):
    shop.followup_days = 3
    shop.save()
    with commit():
        order = place({variant: 1}, accepted=True)
    with commit():
        stock_set_available(variant=variant, available=0, actor=PLATFORM)
        order_fulfill(order=order, actor=PLATFORM)
    followup = Notification.objects.get(kind="followup")
    assert followup.status == "pending"
    assert followup.due_at > timezone.now() + timedelta(days=2, hours=23)
    mail.outbox.clear()

    with commit():
        notifications_sweep()  # not due yet
    assert mail.outbox == []
    with time_machine.travel(timezone.now() + timedelta(days=3, minutes=2)), commit():
        notifications_sweep()
    [message] = mail.outbox
    assert message.subject == f"Acme: did your order {order.number} arrive safely?"
    unsubscribe = message.extra_headers["List-Unsubscribe"].strip("<>")
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert unsubscribe in message.body and unsubscribe in html_of(message)
    # A mail client's one-click unsubscribe: a POST without CSRF token.
    response = browser.post(unsubscribe, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert Suppression.objects.filter(email=order.email, reason="unsubscribed").exists()


def test_an_unsubscribed_customer_still_gets_transactional_emails_but_no_follow_up(
    shop, variant, place, commit
):
    shop.followup_days = 1
    shop.save()
    Suppression.objects.create(shop=shop, email="customer1@example.com", reason="unsubscribed")
    with commit():
        order = place({variant: 1}, accepted=True)
    assert order.email == "customer1@example.com"
    with commit():
        stock_set_available(variant=variant, available=0, actor=PLATFORM)
        order_fulfill(order=order, actor=PLATFORM)
    assert [m.subject.split(": ", 1)[1] for m in mail.outbox] == [
        f"your order {order.number} has items on backorder",
        f"your order {order.number} has shipped",
    ]
    # Allocated and shipped in one go: "ready" was no longer true when it was due.
    assert Notification.objects.get(kind="ready").status == "superseded"
    assert Notification.objects.get(kind="followup").status == "suppressed"


def test_messages_carry_anymail_tags_and_metadata_naming_their_row(settings, variant, place, commit):
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    with commit():
        place({variant: 1}, accepted=True)
    row = Notification.objects.get()
    [message] = mail.outbox
    params = message.anymail_test_params
    assert params["tags"] == ["backorders-confirmation"]
    assert params["metadata"] == {"notification": str(row.pk), "shop": "acme.myshopify.com"}
    assert row.message_id == "0"  # the test backend's id: its index in the outbox


def test_from_address_is_the_shops_own_when_set(shop, variant, place, commit):
    shop.from_email = "hello@acme.test"
    shop.name = "Acme, Inc."
    shop.save()
    with commit():
        place({variant: 1}, accepted=True)
    assert mail.outbox[0].from_email == '"Acme, Inc." <hello@acme.test>'


def test_a_german_customer_gets_german_emails_with_german_dates(make_backordered, place, commit):
    mugs, plates = make_backordered("Tasse"), make_backordered("Teller")
    with commit():
        order = place({mugs: 1, plates: 2}, accepted=True, locale="de-DE", customer_name="Jana")
    [message] = mail.outbox
    assert message.subject == f"Acme: Artikel Ihrer Bestellung {order.number} werden nachgeliefert"
    assert "Hallo Jana," in message.body
    assert "- 2 × Teller (SKU-" in message.body
    assert "voraussichtlicher Versand bis 2. März 2027" in message.body
    assert "Vielen Dank für Ihre Geduld," in message.body
    html = html_of(message)
    assert '<html lang="de">' in html and "Bestellung ansehen" in html
    assert Notification.objects.get().language == "de"


def test_the_language_falls_back_to_the_shops_then_english(shop, variant, place, commit):
    shop.language = "de"
    shop.save()
    with commit():
        place({variant: 1}, accepted=True, locale="fr")  # not shipped: the shop's language
    shop.language = "pt"
    shop.save()
    with commit():
        place({variant: 1}, accepted=True, locale="")  # neither shipped: English
    german, english = mail.outbox
    assert "werden nachgeliefert" in german.subject
    assert "has items on backorder" in english.subject


def test_every_kind_renders_in_german_without_english_left(db):
    from backorders.admin.notifications import notification_sample
    from backorders.services.notifications.outbox import notification_render

    for kind in Notification.Kind.values:
        rendered = notification_render(notification_sample(kind=kind, language="de"))
        for english in ("Hello", "Thank you", "your order", "Your order", "ship", "backorders on"):
            assert english not in rendered.subject + rendered.text, (kind, english)


def test_planning_costs_the_same_few_statements_for_one_order_or_many(make_variant, place):
    """A stock rise that makes 40 orders ready writes their 40 emails in three statements (on
    SQLite, bulk inserts split past 999 parameters: about 50 emails a statement)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for orders in (1, 40):
        variant = make_variant(stock=0, inventory_policy="continue")
        for _ in range(orders):
            place({variant: 1}, accepted=True)
        with CaptureQueriesContext(connection) as captured:
            stock_set_available(variant=variant, available=0, actor=PLATFORM)
        counts.append(len(captured))
        assert Notification.objects.filter(kind="ready", order__backorders__variant=variant).count() == orders
    assert counts[0] == counts[1]


def test_the_owners_cancellation_email_names_the_refund_and_what_the_customer_was_told(
    shop, variant, place, commit
):
    from tests.factories import at

    shop.cancellation_payment_texts = {"en": "We refund you within 3 working days."}
    shop.save()
    with commit():
        order = order_record(
            shop=shop,
            platform_id=4242,
            number="#4242",
            email="ada@example.com",
            placed_at=at(1),
            currency="EUR",
            accepted=True,
            actor=PLATFORM,
            lines=[LineInput(platform_id=1, variant_id=variant.pk, quantity=2, unit_price=Decimal("19.50"))],
        )
    mail.outbox.clear()
    with commit():
        backorder_cancel(
            backorder=order.backorders.get(), actor=Actor.customer(order.email), reason="Too slow"
        )
    [owner] = [m for m in mail.outbox if m.to == [shop.owner_email]]
    assert owner.subject == "Acme: order #4242 has cancelled items to refund"
    assert owner.reply_to == ["ada@example.com"]
    assert "2 × Blue Mug" in owner.body and "39.00 EUR" in owner.body and "Total: 39.00 EUR" in owner.body
    assert "The customer was told: “We refund you within 3 working days.”" in owner.body
    assert "/admin/backorders/cancellation/?settled=no&q=%234242" in owner.body
    assert "/backorders/order/" not in owner.body  # never the customer's own key
