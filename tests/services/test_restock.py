"""Restock dates for many items at once: the preview says what the change then does."""

from datetime import date, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from backorders.models import Backorder, Event, Notification
from backorders.services.audit import Actor
from backorders.services.catalog import PolicyRefused
from backorders.services.eta import backorder_move_eta
from backorders.services.restock import restock_preview, restock_set
from tests.conftest import ETA, RESTOCK

OWNER = Actor.admin("owner")


@pytest.fixture
def waiting(make_backordered, place, commit):
    """Two backordered variants of two products; three orders told ETA 2027-03-02 by email:
    order A waits for both (one email per order), B for the mug, C for the plate."""
    mug, plate = make_backordered("Mug"), make_backordered("Plate")
    with commit():
        a = place({mug: 1, plate: 1}, accepted=True)
        b = place({mug: 2}, accepted=True)
        c = place({plate: 1}, accepted=True)
    assert len(mail.outbox) == 3  # the confirmations, telling ETA
    mail.outbox.clear()
    return mug, plate, a, b, c


def _effects():
    return (
        Event.objects.filter(kind=Event.Kind.ETA_CHANGED).count(),
        Notification.objects.filter(kind=Notification.Kind.ETA_CHANGED).exclude(status="suppressed").count(),
    )


def test_the_preview_counts_what_the_change_then_does(waiting, commit):
    mug, plate, *_ = waiting
    new = RESTOCK + timedelta(days=30)
    preview = restock_preview(variants=[mug, plate], restock_date=new)
    assert _effects() == (0, 0)  # the preview writes nothing
    assert (
        preview.variants,
        preview.backorders_moved,
        preview.customers_moved,
        preview.customers_emailed,
    ) == (
        2,
        4,
        3,
        3,
    )
    with commit():
        result = restock_set(variants=[mug, plate], restock_date=new, note="Late ship", actor=OWNER)
    assert (result.variants, result.backorders_moved, result.customers_moved, result.emails_queued) == (
        2,
        4,
        3,
        3,
    )
    assert _effects() == (4, 3)
    assert len(mail.outbox) == 3  # one per order, order A's names both items
    mug.refresh_from_db()
    assert (mug.restock_date, mug.restock_note) == (new, "Late ship")
    assert set(Backorder.objects.values_list("eta", flat=True)) == {new + timedelta(days=1)}
    event = Event.objects.filter(kind=Event.Kind.ETA_CHANGED).first()
    assert (event.actor_kind, event.actor_name, event.eta_from, event.eta_to) == (
        "admin",
        "owner",
        ETA,
        new + timedelta(days=1),
    )


def test_a_move_within_the_threshold_moves_etas_but_emails_nobody(waiting, commit):
    mug, plate, *_ = waiting
    new = RESTOCK + timedelta(days=2)  # ETAs move by 2 days: not more than the threshold (2)
    preview = restock_preview(variants=[mug], restock_date=new)
    assert (preview.backorders_moved, preview.customers_moved, preview.customers_emailed) == (2, 2, 0)
    with commit():
        result = restock_set(variants=[mug], restock_date=new, actor=OWNER)
    assert (result.backorders_moved, result.emails_queued) == (2, 0)
    assert mail.outbox == []
    assert Event.objects.filter(kind=Event.Kind.ETA_CHANGED).count() == 2


def test_the_shops_own_threshold_decides_who_is_emailed(waiting, shop, commit):
    mug, *_ = waiting
    shop.eta_change_threshold_days = 0
    shop.save()
    new = RESTOCK + timedelta(days=1)
    assert restock_preview(variants=[mug], restock_date=new).customers_emailed == 2
    with commit():
        assert restock_set(variants=[mug], restock_date=new, actor=OWNER).emails_queued == 2
    assert len(mail.outbox) == 2


def test_a_pinned_eta_keeps_its_date_and_is_neither_counted_nor_emailed(waiting, commit):
    mug, plate, a, b, c = waiting
    pinned = b.backorders.get()
    with commit():
        backorder_move_eta(backorder=pinned, eta=ETA + timedelta(days=5), actor=OWNER)
    mail.outbox.clear()
    new = RESTOCK + timedelta(days=30)
    preview = restock_preview(variants=[mug], restock_date=new)
    assert (preview.backorders_moved, preview.customers_emailed) == (1, 1)  # order A's mug only
    with commit():
        result = restock_set(variants=[mug], restock_date=new, actor=OWNER)
    assert (result.backorders_moved, result.emails_queued) == (1, 1)
    pinned.refresh_from_db()
    assert (pinned.eta, pinned.eta_pinned) == (ETA + timedelta(days=5), True)
    assert [message.to for message in mail.outbox] == [[a.email]]


def test_products_move_the_variants_that_inherit_their_date_only(
    make_variant, make_backordered, place, commit
):
    inheriting = make_variant(
        stock=0, inventory_policy="continue", product__title="Bowl", product__restock_date=RESTOCK
    )
    own_date = make_backordered("Cup")  # has its own restock date: a product date changes nothing
    with commit():
        place({inheriting: 1}, accepted=True)
        place({own_date: 1}, accepted=True)
    mail.outbox.clear()
    new = RESTOCK + timedelta(days=30)
    products = [inheriting.product, own_date.product]
    preview = restock_preview(products=products, restock_date=new)
    assert (preview.variants, preview.backorders_moved, preview.customers_emailed) == (2, 1, 1)
    with commit():
        result = restock_set(products=products, restock_date=new, actor=OWNER)
    assert (result.variants, result.backorders_moved, result.emails_queued) == (2, 1, 1)
    inheriting.product.refresh_from_db()
    assert inheriting.product.restock_date == new
    assert Backorder.objects.get(variant=own_date).eta == ETA


def test_a_customer_without_an_address_or_suppressed_is_not_counted_as_emailed(waiting, shop, commit):
    from backorders.models import Suppression

    mug, plate, a, b, c = waiting
    Suppression.objects.create(shop=shop, email=b.email, reason=Suppression.Reason.BOUNCED)
    new = RESTOCK + timedelta(days=30)
    preview = restock_preview(variants=[mug], restock_date=new)
    assert (preview.customers_moved, preview.customers_emailed) == (2, 1)
    with commit():
        assert restock_set(variants=[mug], restock_date=new, actor=OWNER).emails_queued == 1
    assert [message.to for message in mail.outbox] == [[a.email]]


@pytest.mark.parametrize("days", [-1, 731])
def test_a_date_in_the_past_or_too_far_ahead_is_refused_and_changes_nothing(waiting, shop, days):
    mug, plate, *_ = waiting
    today = timezone.localdate(timezone=shop.zoneinfo)
    bad = today + timedelta(days=days)
    with pytest.raises(PolicyRefused) as refused:
        restock_preview(variants=[mug, plate], restock_date=bad)
    assert bad.isoformat() in refused.value.message_dict["restock_date"][0]
    with pytest.raises(PolicyRefused):
        restock_set(variants=[mug, plate], restock_date=bad, actor=OWNER)
    mug.refresh_from_db()
    assert mug.restock_date == RESTOCK
    assert _effects() == (0, 0)


def test_the_last_day_of_the_bound_is_accepted(waiting, shop):
    mug, *_ = waiting
    last = timezone.localdate(timezone=shop.zoneinfo) + timedelta(days=730)
    restock_set(variants=[mug], restock_date=last, actor=OWNER)
    mug.refresh_from_db()
    assert mug.restock_date == last


def test_the_preview_costs_three_queries_whatever_the_selection(
    make_backordered, place, django_assert_num_queries
):
    variants = [make_backordered(f"Item {n}") for n in range(20)]
    for variant in variants:
        place({variant: 1}, accepted=True)
    with django_assert_num_queries(3):
        preview = restock_preview(variants=variants, restock_date=date(2027, 6, 1))
    assert preview.backorders_moved == 20


def test_the_preview_of_products_costs_three_queries_too(make_variant, place, django_assert_num_queries):
    variants = [
        make_variant(
            stock=0, inventory_policy="continue", product__title=f"Item {n}", product__restock_date=RESTOCK
        )
        for n in range(10)
    ]
    for variant in variants:
        place({variant: 1}, accepted=True)
    products = [variant.product for variant in variants]
    with django_assert_num_queries(3):
        preview = restock_preview(products=products, restock_date=date(2027, 6, 1))
    assert (preview.variants, preview.backorders_moved) == (10, 10)
