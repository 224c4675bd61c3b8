"""ETA-changed emails: only past the shop's threshold, "delayed" or "earlier", incentive on long
delays, measured from what the customer was last told, one message per order."""

from datetime import date

import pytest
from django.core import mail

from backorders.models import Notification
from backorders.services.audit import Actor
from backorders.services.catalog import product_set_policy, variant_set_policy
from tests.conftest import RESTOCK, fresh
from tests.factories import VariantFactory

OWNER = Actor.admin("owner")


@pytest.fixture
def ordered(variant, place, commit):
    """An order of 2 waiting units told "expected to ship by March 2, 2027"; outbox emptied."""
    with commit():
        order = place({variant: 2}, accepted=True)
    mail.outbox.clear()
    return order


def restock(variant, day: date, commit) -> None:
    with commit():
        variant_set_policy(variant=fresh(variant), restock_date=day, actor=OWNER)


def test_a_one_day_move_sends_nothing(variant, ordered, commit):
    restock(variant, date(2027, 3, 2), commit)
    assert mail.outbox == []
    assert not Notification.objects.filter(kind="eta_changed").exists()


def test_a_five_day_delay_sends_delayed_with_the_old_and_new_date(shop, variant, ordered, commit):
    shop.apology_incentive = "Use code SORRY10."
    shop.save()
    restock(variant, date(2027, 3, 6), commit)
    [message] = mail.outbox
    assert message.to == [ordered.email]
    assert message.subject == f"Acme: your order {ordered.number} is delayed"
    assert "will ship later than we told you" in message.body
    assert "- 2 × Blue Mug: expected to ship by March 7, 2027 (before: March 2, 2027)" in message.body
    assert "SORRY10" not in message.body  # 5 days is not past the apology threshold (14)
    assert "cancel waiting items" in message.body


def test_a_twenty_day_delay_includes_the_owners_incentive(shop, variant, ordered, commit):
    shop.apology_incentive = "Use code SORRY10 for 10% off your next order."
    shop.save()
    restock(variant, date(2027, 3, 21), commit)
    [message] = mail.outbox
    assert "To make up for the wait: Use code SORRY10 for 10% off your next order." in message.body
    assert "Use code SORRY10 for 10% off your next order." in message.alternatives[0][0]


def test_a_long_delay_without_an_incentive_set_just_apologises(variant, ordered, commit):
    restock(variant, date(2027, 3, 21), commit)
    [message] = mail.outbox
    assert "To make up for the wait" not in message.body


def test_a_large_improvement_sends_good_news(variant, ordered, commit):
    restock(variant, date(2027, 2, 20), commit)
    [message] = mail.outbox
    assert message.subject == f"Acme: good news, your order {ordered.number} ships earlier"
    assert "will ship earlier than we told you" in message.body
    assert "expected to ship by Feb. 21, 2027 (before: March 2, 2027)" in message.body


def test_small_moves_add_up_against_what_the_customer_was_told(variant, ordered, commit):
    restock(variant, date(2027, 3, 3), commit)  # +2: nothing
    assert mail.outbox == []
    restock(variant, date(2027, 3, 5), commit)  # +4 from what they were told: delayed
    [message] = mail.outbox
    assert "expected to ship by March 6, 2027 (before: March 2, 2027)" in message.body
    restock(variant, date(2027, 3, 6), commit)  # +1 from the new date they were told: nothing
    assert len(mail.outbox) == 1


def test_the_threshold_is_a_shop_setting(shop, variant, ordered, commit):
    shop.eta_change_threshold_days = 0
    shop.save()
    restock(variant, date(2027, 3, 2), commit)
    assert len(mail.outbox) == 1


def test_several_lines_of_one_order_moving_together_make_one_email(shop, make_variant, place, commit):
    first = make_variant(
        stock=0, inventory_policy="continue", product__title="Mug", product__restock_date=RESTOCK
    )
    second = fresh(VariantFactory(product=first.product, title="Large"))
    with commit():
        order = place({first: 1, second: 3}, accepted=True)
        other = place({first: 1}, accepted=True)
    mail.outbox.clear()
    with commit():
        product_set_policy(product=first.product, restock_date=date(2027, 3, 11), actor=OWNER)
    by_recipient = {m.to[0]: m for m in mail.outbox}
    assert len(mail.outbox) == 2 and set(by_recipient) == {order.email, other.email}
    body = by_recipient[order.email].body
    assert "- 1 × Mug: expected to ship by March 12, 2027" in body
    assert "- 3 × Mug — Large: expected to ship by March 12, 2027" in body
    row = Notification.objects.get(kind="eta_changed", order=order)
    assert row.items.count() == 2


def test_an_eta_becoming_unknown_sends_nothing(variant, ordered, commit):
    restock(variant, None, commit)
    assert mail.outbox == []


def test_a_first_date_for_a_customer_told_not_known_yet_is_sent_at_once(make_variant, place, commit):
    variant = make_variant(stock=0, inventory_policy="continue", product__title="Kettle")
    with commit():
        order = place({variant: 1}, accepted=True)
    assert "ship date not known yet" in mail.outbox[0].body
    mail.outbox.clear()
    restock(variant, date(2027, 3, 1), commit)
    [message] = mail.outbox
    assert message.subject == f"Acme: we have a date for your order {order.number}"
    assert "We now have a shipping date" in message.body
    assert "- 1 × Kettle: expected to ship by March 2, 2027\n" in message.body  # no "before"
    restock(variant, date(2027, 3, 2), commit)  # then the usual threshold applies
    assert len(mail.outbox) == 1


def test_a_restock_date_in_the_past_is_refused_nothing_changes_and_nobody_is_emailed(
    variant, ordered, commit
):
    from backorders.models import Backorder, Event
    from backorders.services.catalog import PolicyRefused

    with pytest.raises(PolicyRefused) as refusal, commit():
        variant_set_policy(
            variant=fresh(variant), restock_date=date(2020, 1, 1), handling_days=5, actor=OWNER
        )

    [message] = refusal.value.message_dict["restock_date"]
    assert "The restock date 2020-01-01 is in the past" in message and "UTC" in message
    variant.refresh_from_db()
    assert (variant.restock_date, variant.handling_days) == (RESTOCK, None)  # nothing written
    assert Backorder.objects.get(order=ordered).eta == date(2027, 3, 2)
    assert not Event.objects.filter(kind=Event.Kind.ETA_CHANGED).exists()
    assert not Notification.objects.filter(kind="eta_changed").exists()
    assert mail.outbox == []


def test_a_product_restock_date_in_the_past_is_refused_too(variant, ordered, commit):
    from backorders.services.catalog import PolicyRefused

    with pytest.raises(PolicyRefused, match="in the past"), commit():
        product_set_policy(product=variant.product, restock_date=date(2020, 1, 1), actor=OWNER)
    variant.product.refresh_from_db()
    assert variant.product.restock_date is None
    assert mail.outbox == []
