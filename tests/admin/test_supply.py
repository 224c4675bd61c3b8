"""The supply admin: suppliers with their items and measured record, purchase orders created and
edited through the services, and the actions "mark sent", "receive…" (a page per order, refusals
on the page) and "change the expected date…" (an intermediate page)."""

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.contrib.admin import helpers
from django.core import mail
from django.urls import reverse

from backorders.models import Backorder, PurchaseOrder, PurchaseOrderEvent, Supplier, SupplierItem
from backorders.models.orders import EtaSource
from backorders.services.audit import Actor
from backorders.services.purchasing import (
    purchase_order_create,
    purchase_order_receive,
    purchase_order_send,
    supplier_create,
)
from tests.conftest import fresh

OWNER = Actor.admin("owner")


@pytest.fixture(autouse=True)
def _setup(settings):
    settings.SECURE_SSL_REDIRECT = False
    with time_machine.travel(datetime(2026, 12, 2, 12, 0, tzinfo=UTC), tick=False):
        yield


@pytest.fixture
def mug(make_variant):
    return make_variant(stock=0, inventory_policy="continue", sku="MUG-1", product__title="Mug <b>")


@pytest.fixture
def supplier(shop):
    return supplier_create(shop=shop, name="Mugs <Ltd>", lead_time_days=10, actor=OWNER)


@pytest.fixture
def sent(supplier, mug):
    po = purchase_order_create(
        supplier=supplier, number="PO-1", expected_on=date(2026, 12, 10), lines={mug.pk: 5}, actor=OWNER
    )
    return purchase_order_send(purchase_order=po, actor=OWNER)


def test_a_supplier_is_added_with_an_item_and_the_variant_gets_its_lead_time(admin_client, shop, mug):
    response = admin_client.post(
        reverse("admin:backorders_supplier_add"),
        {
            "shop": shop.pk,
            "name": "Acme Ceramics",
            "email": "orders@ceramics.test",
            "currency": "EUR",
            "lead_time_days": 12,
            "lead_time_spread_days": 0,
            "is_active": "on",
            "items-TOTAL_FORMS": 1,
            "items-INITIAL_FORMS": 0,
            "items-0-variant": mug.pk,
            "items-0-supplier_sku": "AC-1",
            "items-0-minimum_order_quantity": 1,
            "items-0-pack_size": 6,
            "items-0-priority": 1,
            "receipts-TOTAL_FORMS": 0,
            "receipts-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    supplier = Supplier.objects.get(name="Acme Ceramics")
    assert SupplierItem.objects.get(supplier=supplier).pack_size == 6
    assert fresh(mug).supply_lead_days == 12
    page = admin_client.get(reverse("admin:backorders_supplier_change", args=[supplier.pk])).content.decode()
    assert "No receipts yet" in page


def test_a_duplicate_supplier_name_is_refused_on_its_field(admin_client, shop, supplier):
    response = admin_client.post(
        reverse("admin:backorders_supplier_change", args=[supplier.pk]),
        {
            "name": "Other",
            "lead_time_days": 1,
            "lead_time_spread_days": 0,
            "items-TOTAL_FORMS": 0,
            "items-INITIAL_FORMS": 0,
            "receipts-TOTAL_FORMS": 0,
            "receipts-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 302
    supplier_create(shop=shop, name="Second", actor=OWNER)
    response = admin_client.post(
        reverse("admin:backorders_supplier_change", args=[supplier.pk]),
        {
            "name": "Second",
            "lead_time_days": 1,
            "lead_time_spread_days": 0,
            "items-TOTAL_FORMS": 0,
            "items-INITIAL_FORMS": 0,
            "receipts-TOTAL_FORMS": 0,
            "receipts-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 200
    assert "already has a supplier named Second" in response.content.decode()


def test_the_supplier_page_shows_its_record_escaped(admin_client, sent, supplier):
    purchase_order_receive(purchase_order=sent, lines={sent.lines.get().pk: 5}, location=None, actor=OWNER)
    page = admin_client.get(reverse("admin:backorders_supplier_change", args=[supplier.pk])).content.decode()
    assert "Last 1 receipts (at most 10): on average -8.0 days late" in page
    assert "100 % on time" in page
    assert "Mugs <Ltd>" not in page and "Mugs &lt;Ltd&gt;" in page


def test_a_purchase_order_is_created_with_lines_and_a_taken_number_is_refused(admin_client, supplier, mug):
    data = {
        "supplier": supplier.pk,
        "number": "PO-7",
        "expected_on": "2026-12-20",
        "note": "",
        "lines-TOTAL_FORMS": 1,
        "lines-INITIAL_FORMS": 0,
        "lines-0-variant": mug.pk,
        "lines-0-quantity_ordered": 8,
        "receipts-TOTAL_FORMS": 0,
        "receipts-INITIAL_FORMS": 0,
        "events-TOTAL_FORMS": 0,
        "events-INITIAL_FORMS": 0,
    }
    response = admin_client.post(reverse("admin:backorders_purchaseorder_add"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    po = PurchaseOrder.objects.get(number="PO-7")
    assert (po.status, po.shop_id, po.lines.get().quantity_ordered) == ("draft", supplier.shop_id, 8)
    assert PurchaseOrderEvent.objects.filter(purchase_order=po, actor_name="admin").exists()
    response = admin_client.post(
        reverse("admin:backorders_purchaseorder_add"), {**data, "expected_on": "2026-11-01"}
    )
    assert response.status_code == 200
    assert (
        "already exists in this shop" in response.content.decode()
        or "in the past" in response.content.decode()
    )
    assert PurchaseOrder.objects.count() == 1


def test_mark_sent_counts_the_order_for_waiting_customers(admin_client, supplier, mug, place, commit):
    with commit():
        order = place({mug: 2}, accepted=True)
    po = purchase_order_create(
        supplier=supplier, number="PO-2", expected_on=date(2026, 12, 10), lines={mug.pk: 5}, actor=OWNER
    )
    with commit():
        response = admin_client.post(
            reverse("admin:backorders_purchaseorder_changelist"),
            {"action": "mark_sent", helpers.ACTION_CHECKBOX_NAME: [po.pk]},
        )
    assert response.status_code == 302
    backorder = order.backorders.get()
    assert (backorder.eta, backorder.eta_source) == (date(2026, 12, 11), EtaSource.PURCHASE_ORDER)


def test_receive_page_receives_part_and_refuses_an_over_receipt(admin_client, sent, mug, place, commit):
    with commit():
        orders = [place({fresh(mug): 1}, accepted=True) for _ in range(4)]
    mail.outbox.clear()
    url = reverse("admin:backorders_purchaseorder_receive", args=[sent.pk])
    page = admin_client.get(url)
    assert page.status_code == 200 and "5 of 5 still to come" in page.content.decode()
    line = sent.lines.get()
    refused = admin_client.post(url, {f"line_{line.pk}": 6, "location": ""})
    assert refused.status_code == 400
    assert "only 5 of 5 are still to come" in refused.content.decode()
    assert fresh(mug).available == -4
    with commit():
        done = admin_client.post(url, {f"line_{line.pk}": 3, "location": ""})
    assert done.status_code == 302
    assert [o.backorders.get().status for o in orders] == ["allocated"] * 3 + ["waiting"]
    assert len(mail.outbox) == 3
    sent.refresh_from_db()
    assert sent.status == "partially_received"


def test_the_receive_action_opens_the_page_of_one_order(admin_client, sent):
    response = admin_client.post(
        reverse("admin:backorders_purchaseorder_changelist"),
        {"action": "receive", helpers.ACTION_CHECKBOX_NAME: [sent.pk]},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:backorders_purchaseorder_receive", args=[sent.pk])


def test_change_expected_asks_then_moves_the_date_and_the_etas(admin_client, sent, mug, place, commit):
    with commit():
        order = place({fresh(mug): 1}, accepted=True)
    changelist = reverse("admin:backorders_purchaseorder_changelist")
    page = admin_client.post(
        changelist, {"action": "change_expected", helpers.ACTION_CHECKBOX_NAME: [sent.pk]}
    )
    assert page.status_code == 200 and "New expected arrival" in page.content.decode()
    with commit():
        done = admin_client.post(
            changelist,
            {
                "action": "change_expected",
                helpers.ACTION_CHECKBOX_NAME: [sent.pk],
                "post": "yes",
                "expected_on": "2026-12-20",
                "note": "Supplier's truck broke down",
            },
        )
    assert done.status_code == 302
    assert Backorder.objects.get(order=order).eta == date(2026, 12, 21)
    event = PurchaseOrderEvent.objects.get(purchase_order=sent, kind="expected_changed")
    assert event.note == "Supplier's truck broke down"
    bad = admin_client.post(
        changelist,
        {
            "action": "change_expected",
            helpers.ACTION_CHECKBOX_NAME: [sent.pk],
            "post": "yes",
            "expected_on": "2026-11-20",
        },
    )
    assert bad.status_code == 400 and "is in the past" in bad.content.decode()


def test_staff_who_are_not_superusers_see_no_supply(client, django_user_model, sent):
    user = django_user_model.objects.create_user("staff", password="x", is_staff=True)
    client.force_login(user)
    assert client.get(reverse("admin:backorders_purchaseorder_changelist")).status_code == 403
    assert client.get(reverse("admin:backorders_purchaseorder_receive", args=[sent.pk])).status_code in (
        403,
        404,
    )
