"""Supply: per-customer ETAs from purchase orders in arrival order, the moves and emails when a
purchase order slips or the queue shortens, receiving (FIFO allocation, refusals), and the
supplier's measured lateness padding lead-time estimates."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection

from backorders.models import (
    Backorder,
    Notification,
    Order,
    OrderLine,
    PurchaseOrder,
    PurchaseOrderEvent,
    Receipt,
    Variant,
)
from backorders.models.orders import EtaSource
from backorders.selectors.availability import eta_estimate
from backorders.selectors.storefront import variant_availability
from backorders.selectors.supply import supplier_reliability
from backorders.services.audit import Actor
from backorders.services.eta import etas_refresh
from backorders.services.lifecycle import backorder_cancel
from backorders.services.purchasing import (
    PurchaseOrderRefused,
    purchase_order_cancel,
    purchase_order_create,
    purchase_order_receive,
    purchase_order_send,
    purchase_order_set_expected,
    purchase_order_set_lines,
    supplier_create,
    supplier_item_set,
)
from tests.conftest import fresh
from tests.factories import LocationFactory

OWNER = Actor.admin("owner")
TODAY = date(2026, 12, 2)
PO_DATES = [date(2026, 12, 10), date(2026, 12, 15), date(2026, 12, 28)]
HANDLING = timedelta(days=1)  # the DEFAULT_HANDLING_DAYS


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(datetime(2026, 12, 2, 12, 0, tzinfo=UTC), tick=False):
        yield


@pytest.fixture
def mug(make_variant):
    return make_variant(stock=0, inventory_policy="continue", product__title="Blue Mug")


@pytest.fixture
def supplier(shop, mug):
    """Lead time 30 days, spread 2: padded at 80 % to ceil(30 + 0.8416 × 2) = 32 days."""
    supplier = supplier_create(
        shop=shop, name="Mugs Ltd", lead_time_days=30, lead_time_spread_days=2, actor=OWNER
    )
    supplier_item_set(supplier=supplier, variant=mug, actor=OWNER)
    return supplier


def make_po(supplier, variant, quantity, expected, number, *, send=True):
    po = purchase_order_create(
        supplier=supplier, number=number, expected_on=expected, lines={variant.pk: quantity}, actor=OWNER
    )
    return purchase_order_send(purchase_order=po, actor=OWNER) if send else po


@pytest.fixture
def queue(shop, mug, supplier, place, commit):
    """18 customers waiting one unit each, then POs of 5, 10 and 5 units sent (the ETAs move
    after commit); the outbox emptied. Returns (orders in queue order, [po1, po2, po3])."""
    with commit():
        orders = [place({mug: 1}, accepted=True) for _ in range(18)]
    with commit():
        pos = [
            make_po(supplier, mug, quantity, expected, f"PO-{n}")
            for n, (quantity, expected) in enumerate(zip([5, 10, 5], PO_DATES, strict=True), start=1)
        ]
    mail.outbox.clear()
    return orders, pos


def backorders_in_queue(mug):
    return list(Backorder.objects.filter(variant=mug).order_by("queued_at", "pk"))


def etas(mug):
    return [(bo.eta, bo.eta_source, bo.eta_purchase_order_id) for bo in backorders_in_queue(mug)]


def emails_to(order):
    return [m for m in mail.outbox if m.to == [order.email]]


def test_each_customer_gets_the_date_of_the_purchase_order_covering_their_unit(queue, mug, place):
    orders, (po1, po2, po3) = queue
    expected = (
        [(PO_DATES[0] + HANDLING, EtaSource.PURCHASE_ORDER, po1.pk)] * 5
        + [(PO_DATES[1] + HANDLING, EtaSource.PURCHASE_ORDER, po2.pk)] * 10
        + [(PO_DATES[2] + HANDLING, EtaSource.PURCHASE_ORDER, po3.pk)] * 3
    )
    assert etas(mug) == expected
    # A 19th customer: PO 3 has 2 units left for positions 19 and 20.
    nineteenth = place({fresh(mug): 1}, accepted=True).backorders.get()
    assert (nineteenth.eta, nineteenth.eta_source) == (PO_DATES[2] + HANDLING, EtaSource.PURCHASE_ORDER)


def test_units_no_purchase_order_covers_get_the_padded_supplier_lead_time_as_an_estimate(queue, mug, place):
    for _ in range(2):  # positions 19 and 20 take PO 3's last units
        place({fresh(mug): 1}, accepted=True)
    twenty_first = place({fresh(mug): 1}, accepted=True).backorders.get()
    assert twenty_first.eta == TODAY + timedelta(days=32) + HANDLING
    assert twenty_first.eta_source == EtaSource.SUPPLIER
    assert twenty_first.get_eta_source_display() == "Estimate from the supplier's lead time"
    # The product page shows the next unit after the queue, from the same engine, as an estimate.
    shown = variant_availability(fresh(mug))
    assert shown.eta.date == twenty_first.eta
    assert "Estimated" in shown.eta_text


def test_a_manual_restock_date_covers_what_no_purchase_order_does(queue, mug):
    Variant.objects.filter(pk=mug.pk).update(restock_date=date(2027, 1, 20))
    variant = fresh(mug)
    assert eta_estimate(variant=variant, units_ahead=19) == eta_estimate(variant=variant, units_ahead=19)
    assert eta_estimate(variant=variant, units_ahead=19).source == EtaSource.PURCHASE_ORDER
    assert eta_estimate(variant=variant, units_ahead=20).date == date(2027, 1, 21)
    assert eta_estimate(variant=variant, units_ahead=20).source == EtaSource.MANUAL


def test_po_2_slipping_ten_days_emails_exactly_customers_6_to_15_once(queue, mug, commit):
    orders, (_, po2, _) = queue
    with commit():
        purchase_order_set_expected(
            purchase_order=po2, expected_on=PO_DATES[1] + timedelta(days=10), actor=OWNER
        )
    delayed = [order for order in orders if emails_to(order)]
    assert delayed == orders[5:15]
    for order in delayed:
        [message] = emails_to(order)
        assert "is delayed" in message.subject
        assert "Dec. 26, 2026" in message.body and "(before: Dec. 16, 2026)" in message.body
    assert len(mail.outbox) == 10
    assert [bo.eta for bo in backorders_in_queue(mug)][5:15] == [date(2026, 12, 26)] * 10
    event = PurchaseOrderEvent.objects.get(purchase_order=po2, kind="expected_changed")
    assert (event.date_from, event.date_to, event.actor_name) == (PO_DATES[1], date(2026, 12, 25), "owner")


def test_a_cancellation_at_position_3_moves_position_6_into_po_1_and_emails_it_earlier(queue, mug, commit):
    orders, (po1, _, _) = queue
    third = orders[2].backorders.get()
    with commit():
        backorder_cancel(backorder=third, actor=OWNER)
    sixth = orders[5].backorders.get()
    assert (sixth.eta, sixth.eta_purchase_order_id) == (PO_DATES[0] + HANDLING, po1.pk)
    [message] = emails_to(orders[5])
    assert "ships earlier" in message.subject
    assert all(not emails_to(order) for order in orders[6:15])  # they stay on PO 2


def test_a_move_within_the_threshold_sends_nothing(queue, mug, commit, shop):
    shop.eta_change_threshold_days = 5  # position 6 moves 5 days: not more than 5
    shop.save()
    orders, _ = queue
    with commit():
        backorder_cancel(backorder=orders[2].backorders.get(), actor=OWNER)
    assert orders[5].backorders.get().eta == PO_DATES[0] + HANDLING
    assert emails_to(orders[5]) == []
    [message] = emails_to(orders[15])  # position 16 moves from PO 3 to PO 2: 13 days
    assert "ships earlier" in message.subject


def test_a_pinned_eta_stays_when_its_purchase_order_slips(queue, mug, commit):
    from backorders.services.eta import backorder_move_eta

    orders, (_, po2, _) = queue
    with commit():
        pinned = backorder_move_eta(backorder=orders[7].backorders.get(), eta=date(2027, 1, 5), actor=OWNER)
    mail.outbox.clear()
    with commit():
        purchase_order_set_expected(purchase_order=po2, expected_on=date(2026, 12, 25), actor=OWNER)
    pinned.refresh_from_db()
    assert (pinned.eta, pinned.eta_source, pinned.eta_pinned) == (date(2027, 1, 5), EtaSource.MANUAL, True)
    assert emails_to(orders[7]) == []


def test_a_partial_receipt_of_po_1_allocates_3_fifo_and_leaves_the_rest_on_po_1(queue, mug, commit, shop):
    orders, (po1, po2, _) = queue
    [line] = po1.lines.all()
    with commit():
        receipt = purchase_order_receive(purchase_order=po1, lines={line.pk: 3}, location=None, actor=OWNER)
    queue_now = backorders_in_queue(mug)
    assert [bo.status for bo in queue_now[:5]] == ["allocated"] * 3 + ["waiting"] * 2
    assert [(bo.eta, bo.eta_purchase_order_id) for bo in queue_now[3:5]] == [
        (PO_DATES[0] + HANDLING, po1.pk)
    ] * 2
    assert queue_now[5].eta_purchase_order_id == po2.pk
    for order in orders[:3]:
        assert [m.subject for m in emails_to(order)] == [f"Acme: your order {order.number} is ready to ship"]
    assert all(not emails_to(order) for order in orders[3:])
    po1.refresh_from_db()
    line.refresh_from_db()
    assert (po1.status, line.quantity_received) == (PurchaseOrder.Status.PARTIALLY_RECEIVED, 3)
    assert (receipt.promised_on, receipt.received_on, receipt.days_late, receipt.units) == (
        PO_DATES[0],
        TODAY,
        -8,
        3,
    )
    variant = fresh(mug)
    assert (variant.available, variant.units_waiting, variant.units_allocated) == (-15, 15, 3)
    assert variant.supply_schedule[0] == {"po": po1.pk, "number": "PO-1", "date": "2026-12-10", "units": 2}


def test_receiving_the_rest_completes_the_purchase_order(queue, mug, commit):
    _, (po1, _, _) = queue
    [line] = po1.lines.all()
    with commit():
        purchase_order_receive(purchase_order=po1, lines={line.pk: 5}, location=None, actor=OWNER)
    po1.refresh_from_db()
    assert po1.status == PurchaseOrder.Status.RECEIVED and po1.received_at is not None
    assert [bo.status for bo in backorders_in_queue(mug)].count("allocated") == 5


def test_receipts_at_a_location_raise_stock_there(shop, mug, supplier, commit):
    warehouse = LocationFactory(shop=shop, name="Back room")
    po = make_po(supplier, mug, 4, PO_DATES[0], "PO-9")
    [line] = po.lines.all()
    purchase_order_receive(purchase_order=po, lines={line.pk: 4}, location=warehouse, actor=OWNER)
    assert mug.inventory_levels.get(location=warehouse).available == 4
    assert fresh(mug).available == 4


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        (6, "only 5 of 5 are still to come"),
        (-1, "enter a whole number"),
        (0, "Enter how many units arrived"),
    ],
)
def test_a_bad_receipt_is_refused_and_changes_nothing(shop, mug, supplier, quantity, message):
    po = make_po(supplier, mug, 5, PO_DATES[0], "PO-7")
    [line] = po.lines.all()
    with pytest.raises(PurchaseOrderRefused) as refusal:
        purchase_order_receive(purchase_order=po, lines={line.pk: quantity}, location=None, actor=OWNER)
    assert message in str(refusal.value)
    line.refresh_from_db()
    assert line.quantity_received == 0 and not Receipt.objects.exists() and fresh(mug).available == 0


def test_a_draft_or_cancelled_purchase_order_cannot_be_received(shop, mug, supplier):
    draft = make_po(supplier, mug, 5, PO_DATES[0], "PO-D", send=False)
    with pytest.raises(PurchaseOrderRefused, match="still a draft: send it before receiving it"):
        purchase_order_receive(
            purchase_order=draft, lines={draft.lines.get().pk: 1}, location=None, actor=OWNER
        )
    cancelled = purchase_order_cancel(
        purchase_order=make_po(supplier, mug, 5, PO_DATES[0], "PO-C"), actor=OWNER
    )
    with pytest.raises(PurchaseOrderRefused, match="PO-C is cancelled: it cannot be received"):
        purchase_order_receive(
            purchase_order=cancelled, lines={cancelled.lines.get().pk: 1}, location=None, actor=OWNER
        )
    assert fresh(mug).available == 0


def test_a_line_of_another_purchase_order_is_refused(shop, mug, supplier):
    one, other = (
        make_po(supplier, mug, 5, PO_DATES[0], "PO-A"),
        make_po(supplier, mug, 5, PO_DATES[0], "PO-B"),
    )
    with pytest.raises(PurchaseOrderRefused, match="is not on purchase order PO-A"):
        purchase_order_receive(
            purchase_order=one, lines={other.lines.get().pk: 1}, location=None, actor=OWNER
        )


def test_a_draft_counts_on_nothing_and_a_cancelled_order_stops_counting(shop, mug, supplier, place, commit):
    with commit():
        order = place({mug: 1}, accepted=True)
    draft = make_po(supplier, mug, 5, PO_DATES[0], "PO-1", send=False)
    assert fresh(mug).supply_schedule == []
    with commit():
        purchase_order_send(purchase_order=draft, actor=OWNER)
    assert order.backorders.get().eta_source == EtaSource.PURCHASE_ORDER
    with commit():
        purchase_order_cancel(purchase_order=draft, actor=OWNER)
    backorder = order.backorders.get()
    assert (backorder.eta, backorder.eta_source) == (TODAY + timedelta(days=33), EtaSource.SUPPLIER)


def test_purchase_order_numbers_are_unique_per_shop_and_dates_bounded(shop, mug, supplier):
    make_po(supplier, mug, 5, PO_DATES[0], "PO-1", send=False)
    with pytest.raises(PurchaseOrderRefused, match="PO-1 already exists"):
        make_po(supplier, mug, 5, PO_DATES[0], "PO-1", send=False)
    with pytest.raises(PurchaseOrderRefused, match="is in the past"):
        make_po(supplier, mug, 5, date(2026, 11, 30), "PO-2", send=False)
    with pytest.raises(PurchaseOrderRefused, match="more than 730 days"):
        make_po(supplier, mug, 5, date(2029, 1, 1), "PO-3", send=False)
    with pytest.raises(PurchaseOrderRefused, match="whole number from 0 to"):
        make_po(supplier, mug, 10**7, PO_DATES[0], "PO-4", send=False)
    assert PurchaseOrder.objects.count() == 1


def test_lines_cannot_go_below_what_was_received(shop, mug, supplier):
    po = make_po(supplier, mug, 5, PO_DATES[0], "PO-1")
    purchase_order_receive(purchase_order=po, lines={po.lines.get().pk: 3}, location=None, actor=OWNER)
    with pytest.raises(PurchaseOrderRefused, match="3 units were already received"):
        purchase_order_set_lines(purchase_order=po, lines={mug.pk: 2}, actor=OWNER)
    purchase_order_set_lines(purchase_order=po, lines={mug.pk: 8}, actor=OWNER)
    assert fresh(mug).supply_schedule[0]["units"] == 5


def test_lateness_of_0_4_and_8_days_pads_the_lead_time_by_the_measured_spread(shop, mug, place):
    """Mean 4, sample spread 4: padding 4 + 0.8416 × 4 = 7.37; lead 10 → ceil(17.37) = 18 days."""
    supplier = supplier_create(
        shop=shop, name="Slow Co", lead_time_days=10, lead_time_spread_days=1, actor=OWNER
    )
    supplier_item_set(supplier=supplier, variant=mug, actor=OWNER)
    for n, late in enumerate([0, 4, 8]):
        po = make_po(supplier, mug, 1, TODAY, f"PO-{n}")
        with time_machine.travel(datetime(2026, 12, 2 + late, 12, 0, tzinfo=UTC), tick=False):
            purchase_order_receive(
                purchase_order=po, lines={po.lines.get().pk: 1}, location=None, actor=OWNER
            )
    record = supplier_reliability(supplier=supplier)
    assert (record.receipts, record.mean_days_late, record.spread_days) == (3, 4.0, 4.0)
    assert record.on_time_rate == pytest.approx(1 / 3)
    assert fresh(mug).supply_lead_days == 18
    Variant.objects.filter(pk=mug.pk).update(available=0)
    backorder = place({fresh(mug): 1}, accepted=True).backorders.get()
    assert (backorder.eta, backorder.eta_source) == (
        TODAY + timedelta(days=18) + HANDLING,
        EtaSource.SUPPLIER,
    )


def test_a_higher_confidence_pads_more(shop, mug, settings):
    settings.BACKORDERS = {**settings.BACKORDERS, "ETA_CONFIDENCE": 0.95}
    supplier = supplier_create(shop=shop, name="Co", lead_time_days=10, lead_time_spread_days=2, actor=OWNER)
    supplier_item_set(supplier=supplier, variant=mug, actor=OWNER)
    assert fresh(mug).supply_lead_days == 14  # ceil(10 + 1.645 × 2) = 14 (at 80 %: 12)


def test_the_best_supplier_is_the_first_priority(shop, mug):
    slow = supplier_create(shop=shop, name="Slow", lead_time_days=40, actor=OWNER)
    fast = supplier_create(shop=shop, name="Fast", lead_time_days=5, actor=OWNER)
    supplier_item_set(supplier=slow, variant=mug, priority=1, actor=OWNER)
    supplier_item_set(supplier=fast, variant=mug, priority=2, actor=OWNER)
    assert fresh(mug).supply_lead_days == 40
    supplier_item_set(supplier=fast, variant=mug, priority=1, actor=OWNER)
    assert fresh(mug).supply_lead_days == 5


def _bulk_queue(shop, variant, lines):
    start = datetime(2026, 11, 1, tzinfo=UTC)
    orders = Order.objects.bulk_create(
        Order(
            shop=shop,
            platform_id=10_000 + i,
            placed_at=start + timedelta(seconds=i),
            email=f"c{i}@example.com",
        )
        for i in range(lines)
    )
    order_lines = OrderLine.objects.bulk_create(
        OrderLine(shop=shop, order=o, platform_id=1, variant=variant, quantity=1) for o in orders
    )
    Backorder.objects.bulk_create(
        Backorder(shop=shop, order=o, line=line, variant=variant, quantity=1, queued_at=o.placed_at)
        for o, line in zip(orders, order_lines, strict=True)
    )
    Variant.objects.filter(pk=variant.pk).update(units_waiting=lines, available=-lines)


@pytest.mark.parametrize("lines", [10, 1000])
def test_recomputing_a_queue_costs_the_same_statements_for_10_and_1000_lines(
    shop, mug, supplier, lines, django_assert_max_num_queries
):
    _bulk_queue(shop, mug, lines)
    for n, expected in enumerate(PO_DATES):
        make_po(supplier, mug, lines // 3, expected, f"PO-{n}")
    # a savepoint and its release, the lock, the queue, one update, the events, the email
    # planning's read and its two inserts
    with django_assert_max_num_queries(9 if connection.vendor == "postgresql" else 12):
        moved = etas_refresh(variant_ids=[mug.pk], actor=OWNER)
    assert moved == lines
    assert Notification.objects.filter(kind="eta_changed").count() == lines
    last = Backorder.objects.filter(variant=mug).order_by("-queued_at").first()
    assert last.eta_source == EtaSource.SUPPLIER


def test_a_shop_redact_erases_its_suppliers_and_purchase_orders(queue, shop, supplier):
    from backorders.models import Shop, Supplier
    from backorders.services.privacy.shop import shop_redact

    _, (po1, _, _) = queue
    purchase_order_receive(purchase_order=po1, lines={po1.lines.get().pk: 2}, location=None, actor=OWNER)
    Shop.objects.filter(pk=shop.pk).update(
        is_active=False,
        uninstalled_at=datetime(2026, 12, 1, tzinfo=UTC),
        connected_at=datetime(2026, 11, 1, tzinfo=UTC),
    )
    assert shop_redact(shop=shop) > 0
    assert (
        not Supplier.objects.exists() and not PurchaseOrder.objects.exists() and not Receipt.objects.exists()
    )
