"""The management API's suppliers and purchase orders: a shop's systems create, send, reschedule
and receive purchase orders, and waiting customers' ETAs and stock follow, exactly as from the
admin; nothing of another shop can be read or changed."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core import mail

from backorders.models import Backorder, PurchaseOrder, Supplier, Variant
from backorders.models.orders import EtaSource
from backorders.services.audit import Actor
from backorders.services.purchasing import supplier_create
from backorders.services.shops import api_token_create
from tests.conftest import HttpsClient, fresh
from tests.factories import LocationFactory, ProductFactory, ShopFactory, VariantFactory

pytestmark = pytest.mark.django_db

SUPPLIERS = "/api/v1/manage/suppliers"
ORDERS = "/api/v1/manage/purchase-orders"
ARRIVAL = date(2026, 12, 10)
HANDLING = timedelta(days=1)


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(datetime(2026, 12, 2, 12, 0, tzinfo=UTC), tick=False):
        yield


def client_of(shop):
    key = api_token_create(shop=shop, name="ERP", actor=Actor.admin("owner")).key
    return HttpsClient(headers={"Authorization": f"Bearer {key}"})


@pytest.fixture
def api(shop):
    return client_of(shop)


def post(api, url, body=None):
    return api.post(url, body or {}, content_type="application/json")


@pytest.fixture
def mug(make_variant, shop):
    LocationFactory(shop=shop, platform_id=77)
    return make_variant(stock=0, inventory_policy="continue", platform_id=4242, sku="MUG")


@pytest.fixture
def waiting(mug, place, commit):
    """Three customers waiting one mug each, in this order."""
    with commit():
        orders = [place({mug: 1}, accepted=True) for _ in range(3)]
    mail.outbox.clear()
    return orders


@pytest.fixture
def other_shop():
    other = ShopFactory(domain="other.myshopify.com")
    variant = VariantFactory(product=ProductFactory(shop=other), platform_id=9999)
    supplier = supplier_create(shop=other, name="Theirs", actor=Actor.admin("them"))
    return other, variant, supplier


def queue(mug):
    return list(Backorder.objects.filter(variant=mug).order_by("queued_at", "pk"))


def test_a_supplier_is_added_listed_with_its_record_and_changed(api):
    answer = post(api, SUPPLIERS, {"name": "  Mugs   Ltd ", "currency": "eur", "lead_time_days": 20})
    assert answer.status_code == 201, answer.json()
    created = answer.json()
    assert (created["name"], created["currency"], created["lead_time_days"]) == ("Mugs Ltd", "EUR", 20)
    assert created["reliability"]["receipts"] == 0
    listing = api.get(SUPPLIERS).json()["results"]
    assert [row["name"] for row in listing] == ["Mugs Ltd"]
    changed = api.patch(
        f"{SUPPLIERS}/{created['id']}", {"lead_time_days": 25}, content_type="application/json"
    )
    assert changed.status_code == 200 and changed.json()["lead_time_days"] == 25
    assert Supplier.objects.get().lead_time_days == 25


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "A", "currency": "EURO"}, "currency"),
        ({"name": "A", "currency": "XYZ"}, "currency"),
        ({"name": "A", "lead_time_days": 731}, "lead_time_days"),
        ({"name": "A", "email": "not an address"}, "email"),
    ],
)
def test_a_bad_supplier_is_400_naming_the_field(api, body, field):
    answer = post(api, SUPPLIERS, body)
    assert answer.status_code == 400
    assert field in answer.json()
    assert not Supplier.objects.exists()


def test_a_supplier_name_already_used_is_refused_on_its_field(api, shop):
    supplier_create(shop=shop, name="Mugs Ltd", actor=Actor.admin("owner"))
    answer = post(api, SUPPLIERS, {"name": "Mugs Ltd"})
    assert answer.status_code == 400 and "name" in answer.json()


def test_a_purchase_order_created_and_sent_gives_the_waiting_customers_its_date(
    api, shop, mug, waiting, commit
):
    supplier = supplier_create(shop=shop, name="Mugs Ltd", actor=Actor.admin("owner"))
    body = {"supplier": supplier.pk, "number": "PO-1", "expected_on": ARRIVAL.isoformat()}
    answer = post(api, ORDERS, {**body, "lines": [{"variant": 4242, "quantity": 2}]})
    assert answer.status_code == 201, answer.json()
    order = answer.json()
    assert order["status"] == "draft"
    assert [(line["variant"], line["quantity_ordered"]) for line in order["lines"]] == [(4242, 2)]
    assert {bo.eta_source for bo in queue(mug)} != {EtaSource.PURCHASE_ORDER}  # a draft counts on nothing
    with commit():
        sent = post(api, f"{ORDERS}/{order['id']}/send")
    assert sent.status_code == 200 and sent.json()["status"] == "sent"
    first, second, third = queue(mug)
    assert (first.eta, first.eta_source) == (ARRIVAL + HANDLING, EtaSource.PURCHASE_ORDER)
    assert (second.eta, second.eta_source) == (ARRIVAL + HANDLING, EtaSource.PURCHASE_ORDER)
    assert third.eta_source != EtaSource.PURCHASE_ORDER  # two units cover two customers


def test_a_slipped_date_moves_and_emails_the_covered_customers(api, shop, mug, waiting, commit):
    supplier = supplier_create(shop=shop, name="Mugs Ltd", actor=Actor.admin("owner"))
    with commit():
        order = post(
            api,
            ORDERS,
            {
                "supplier": supplier.pk,
                "number": "PO-1",
                "expected_on": ARRIVAL.isoformat(),
                "lines": [{"variant": 4242, "quantity": 1}],
            },
        ).json()
        post(api, f"{ORDERS}/{order['id']}/send")
    mail.outbox.clear()
    later = ARRIVAL + timedelta(days=10)
    with commit():
        answer = api.patch(
            f"{ORDERS}/{order['id']}", {"expected_on": later.isoformat()}, content_type="application/json"
        )
    assert answer.status_code == 200, answer.json()
    assert answer.json()["expected_on"] == later.isoformat()
    first = queue(mug)[0]
    assert first.eta == later + HANDLING
    assert [m.to for m in mail.outbox] == [[waiting[0].email]]


def test_receiving_part_allocates_first_come_and_over_receipt_is_refused(api, shop, mug, waiting, commit):
    supplier = supplier_create(shop=shop, name="Mugs Ltd", actor=Actor.admin("owner"))
    with commit():
        order = post(
            api,
            ORDERS,
            {
                "supplier": supplier.pk,
                "number": "PO-1",
                "expected_on": ARRIVAL.isoformat(),
                "lines": [{"variant": 4242, "quantity": 3}],
            },
        ).json()
        post(api, f"{ORDERS}/{order['id']}/send")
    line = order["lines"][0]["id"]
    too_many = post(api, f"{ORDERS}/{order['id']}/receive", {"lines": [{"line": line, "quantity": 4}]})
    assert too_many.status_code == 400 and "lines" in too_many.json()
    assert fresh(mug).units_allocated == 0
    with commit():
        answer = post(
            api, f"{ORDERS}/{order['id']}/receive", {"lines": [{"line": line, "quantity": 2}], "location": 77}
        )
    assert answer.status_code == 200, answer.json()
    assert answer.json()["status"] == "partially_received"
    assert answer.json()["lines"][0]["quantity_received"] == 2
    statuses = [bo.status for bo in queue(mug)]
    assert statuses == [Backorder.Status.ALLOCATED, Backorder.Status.ALLOCATED, Backorder.Status.WAITING]
    assert queue(mug)[2].eta_source == EtaSource.PURCHASE_ORDER  # the last unit is still coming


def test_a_cancelled_order_cannot_be_received_and_says_why(api, shop, mug):
    supplier = supplier_create(shop=shop, name="Mugs Ltd", actor=Actor.admin("owner"))
    order = post(
        api,
        ORDERS,
        {
            "supplier": supplier.pk,
            "number": "PO-1",
            "expected_on": ARRIVAL.isoformat(),
            "lines": [{"variant": 4242, "quantity": 3}],
        },
    ).json()
    post(api, f"{ORDERS}/{order['id']}/send")
    cancelled = post(api, f"{ORDERS}/{order['id']}/cancel", {"reason": "Supplier out of stock"})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    answer = post(
        api, f"{ORDERS}/{order['id']}/receive", {"lines": [{"line": order["lines"][0]["id"], "quantity": 1}]}
    )
    assert answer.status_code == 400
    assert "cancelled" in str(answer.json()).lower()
    assert fresh(mug).available == 0


def test_a_refused_patch_changes_nothing_of_what_it_named(api, shop, mug):
    supplier = supplier_create(shop=shop, name="Mugs Ltd", actor=Actor.admin("owner"))
    order = post(
        api,
        ORDERS,
        {"supplier": supplier.pk, "number": "PO-1", "expected_on": ARRIVAL.isoformat(), "lines": []},
    ).json()
    answer = api.patch(
        f"{ORDERS}/{order['id']}",
        {"lines": [{"variant": 4242, "quantity": 5}], "expected_on": "2020-01-01"},
        content_type="application/json",
    )
    assert answer.status_code == 400 and "expected_on" in answer.json()
    assert not PurchaseOrder.objects.get().lines.exists()  # the lines were rolled back too


def test_another_shops_suppliers_orders_and_variants_are_404(api, shop, mug, other_shop):
    other, their_variant, their_supplier = other_shop
    theirs = client_of(other)
    their_order = post(
        theirs,
        ORDERS,
        {
            "supplier": their_supplier.pk,
            "number": "B-1",
            "expected_on": ARRIVAL.isoformat(),
            "lines": [{"variant": 9999, "quantity": 1}],
        },
    ).json()
    assert api.get(f"{SUPPLIERS}/{their_supplier.pk}").status_code == 404
    assert (
        api.patch(
            f"{SUPPLIERS}/{their_supplier.pk}", {"name": "Mine"}, content_type="application/json"
        ).status_code
        == 404
    )
    assert api.get(f"{ORDERS}/{their_order['id']}").status_code == 404
    for action in ("send", "cancel", "confirm"):
        assert post(api, f"{ORDERS}/{their_order['id']}/{action}").status_code == 404
    assert api.get(SUPPLIERS).json()["results"] == [] and api.get(ORDERS).json()["results"] == []
    # Their supplier or their variant in our order: 404, nothing created.
    mine = {"number": "A-1", "expected_on": ARRIVAL.isoformat()}
    assert post(api, ORDERS, {**mine, "supplier": their_supplier.pk}).status_code == 404
    ours = supplier_create(shop=shop, name="Ours", actor=Actor.admin("owner"))
    answer = post(api, ORDERS, {**mine, "supplier": ours.pk, "lines": [{"variant": 9999, "quantity": 1}]})
    assert answer.status_code == 404
    assert PurchaseOrder.objects.filter(shop=shop).count() == 0
    assert PurchaseOrder.objects.get(pk=their_order["id"]).status == "draft"
    assert Variant.objects.get(pk=their_variant.pk).available == 0


def test_the_order_list_reads_a_page_in_a_constant_number_of_queries(
    api, shop, mug, django_assert_max_num_queries
):
    supplier = supplier_create(shop=shop, name="Mugs Ltd", actor=Actor.admin("owner"))
    for n in range(30):
        post(
            api,
            ORDERS,
            {
                "supplier": supplier.pk,
                "number": f"PO-{n}",
                "expected_on": ARRIVAL.isoformat(),
                "lines": [{"variant": 4242, "quantity": n + 1}],
            },
        )
    with django_assert_max_num_queries(5):
        rows = api.get(ORDERS).json()["results"]
    assert len(rows) == 30 and rows[0]["number"] == "PO-29"
    assert api.get(ORDERS, {"status": "sent"}).json()["results"] == []
