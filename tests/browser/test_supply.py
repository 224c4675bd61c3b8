"""The owner's supply pages in a real Chromium: a purchase order with its lines and history, the
receive page (an over-receipt refused on the page, then a partial receipt that allocates the
first customers), the supplier page with its record, and "change the expected date…"."""

from datetime import timedelta

import pytest
from django.utils import timezone

from backorders.models import Backorder
from backorders.services.audit import Actor
from backorders.services.purchasing import (
    purchase_order_create,
    purchase_order_send,
    supplier_create,
    supplier_item_set,
)
from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
OWNER = Actor.admin("owner")


def test_the_owner_receives_part_of_a_purchase_order(
    page, site, django_user_model, shop, make_variant, place
):
    mug = make_variant(stock=0, inventory_policy="continue", sku="MUG-1", product__title="Blue <i>Mug</i>")
    supplier = supplier_create(shop=shop, name="Mugs & Co", lead_time_days=10, actor=OWNER)
    supplier_item_set(supplier=supplier, variant=mug, supplier_sku="MC-1", actor=OWNER)
    orders = [place({mug: 1}, accepted=True) for _ in range(4)]
    expected = timezone.localdate() + timedelta(days=8)
    po = purchase_order_create(
        supplier=supplier, number="PO-1001", expected_on=expected, lines={mug.pk: 5}, actor=OWNER
    )
    po = purchase_order_send(purchase_order=po, actor=OWNER)
    django_user_model.objects.create_superuser("owner", "owner@example.com", "a-long-pass-phrase-1")
    page.goto("/admin/login/")
    page.fill("#id_username", "owner")
    page.fill("#id_password", "a-long-pass-phrase-1")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin/")

    page.goto("/admin/backorders/purchaseorder/")
    assert "PO-1001" in page.locator("#result_list").inner_text()
    screenshot(page, "admin-purchase-orders")
    page.goto(f"/admin/backorders/purchaseorder/{po.pk}/change/")
    assert page.locator("a.receive-link").count() == 1
    screenshot(page, "admin-purchase-order")
    page.locator("a.receive-link").click()
    field = page.locator(f"#id_line_{po.lines.get().pk}")
    assert field.input_value() == "5"
    field.fill("7")
    page.get_by_role("button", name="Receive these units").click()
    assert "only 5 of 5 are still to come" in page.locator(".errorlist").inner_text()
    screenshot(page, "admin-receive-refused")
    page.locator(f"#id_line_{po.lines.get().pk}").fill("3")
    page.get_by_role("button", name="Receive these units").click()
    page.wait_for_url(f"**/purchaseorder/{po.pk}/change/")
    assert "3 units received" in page.locator(".messagelist").inner_text()
    screenshot(page, "admin-purchase-order-received")
    statuses = [Backorder.objects.get(order=o).status for o in orders]
    assert statuses == ["allocated"] * 3 + ["waiting"]

    page.goto(f"/admin/backorders/supplier/{supplier.pk}/change/")
    assert "Last 1 receipts" in page.locator("body").inner_text()
    assert page.locator("text=Mugs & Co").count() >= 1
    screenshot(page, "admin-supplier")

    page.goto("/admin/backorders/purchaseorder/")
    page.locator("#result_list .action-select").first.check()
    page.select_option("select[name=action]", "change_expected")
    page.locator("button[name=index]").click()
    page.fill("#id_expected_on", (expected + timedelta(days=10)).isoformat())
    page.get_by_role("button", name="Save the new date").click()
    assert "rescheduled" in page.locator(".messagelist").inner_text()
    waiting = Backorder.objects.get(order=orders[3])
    assert waiting.eta == expected + timedelta(days=11)
    screenshot(page, "admin-purchase-orders-rescheduled")
    assert page.problems == []
