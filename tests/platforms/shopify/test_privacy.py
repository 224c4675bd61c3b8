"""The mandatory privacy topics: a customer's redaction leaves no trace of their email anywhere."""

import json

import pytest
from django.apps import apps
from django.db import models

from backorders.models import (
    Backorder,
    CustomerDataRequest,
    Notification,
    Order,
    Suppression,
    WebhookDelivery,
)
from backorders.services.audit import Actor
from backorders.services.lifecycle import backorder_cancel
from tests.conftest import fixture

pytestmark = pytest.mark.django_db

EMAIL = "jane.doe@example.com"
OTHER = "max.mustermann@example.org"
TEXT_FIELDS = (models.CharField, models.TextField, models.JSONField)


def rows_mentioning(text: str) -> list[str]:
    """Every row of every model of every installed app with ``text`` in a text or JSON column."""
    found = []
    needle = text.lower()
    for model in apps.get_models():
        fields = [f.attname for f in model._meta.concrete_fields if isinstance(f, TEXT_FIELDS)]
        if not fields:
            continue
        for row in model._default_manager.values_list("pk", *fields):
            for name, value in zip(fields, row[1:], strict=True):
                if value is not None and needle in json.dumps(value, ensure_ascii=False).lower():
                    found.append(f"{model._meta.label}.{name} #{row[0]}")
    return found


def second_order(order_id: int, email: str, line_id: int) -> dict:
    order = fixture("orders_create")
    order.update(id=order_id, name=f"#{order_id % 10000}", email=email, contact_email=email)
    if email != EMAIL:  # another customer, with their own name, address and phone
        address = {
            "first_name": "Max",
            "last_name": "M",
            "name": "Max M",
            "address1": "Hauptstraße 1",
            "phone": None,
        }
        order.update(billing_address=address, shipping_address=address, phone=None, note=None)
        order["customer"] = {"id": order_id + 1, "email": email, "first_name": "Max", "last_name": "M"}
    order["line_items"] = [dict(order["line_items"][0], id=line_id)]
    return order


@pytest.fixture
def customer_history(deliver, shop):
    """Jane's orders, backorders, emails, a bounce, a data export, a self-service cancellation and
    a malformed delivery quoting her address; plus another customer's order."""
    deliver("products/create", "products_create")
    deliver("orders/create", "orders_create")
    deliver("fulfillments/create", "fulfillments_create")
    deliver("orders/create", second_order(5678901234999, EMAIL, 13012345679999))
    deliver("orders/create", second_order(5678901234888, OTHER, 13012345678888))
    jane_waiting = Backorder.objects.get(line__platform_id=13012345679999)
    backorder_cancel(backorder=jane_waiting, actor=Actor.customer(EMAIL), reason=f"Cancelled by {EMAIL}")
    Suppression.objects.create(
        shop=shop, email=EMAIL, reason="bounced", detail=f"550 5.1.1 <{EMAIL}>: no such user"
    )
    deliver("customers/data_request", "customers_data_request")
    deliver(
        "orders/updated", f'{{"id": 5678901234567, "email": "{EMAIL}", '.encode()
    )  # malformed: kept as rejected
    assert rows_mentioning(EMAIL), "the scenario must store the email somewhere before the redaction"
    assert CustomerDataRequest.objects.exists()


def test_customers_redact_leaves_no_trace_of_the_email_in_any_column(deliver, customer_history):
    response = deliver("customers/redact", "customers_redact")

    assert response.status_code == 200
    assert WebhookDelivery.objects.get(topic="customers/redact").status == WebhookDelivery.Status.PROCESSED
    assert rows_mentioning(EMAIL) == []
    assert rows_mentioning("Jane") == []
    assert rows_mentioning("Lindenstraße") == []  # her address, in the stored bodies
    assert rows_mentioning("+4915112345678") == []  # her phone


def test_customers_redact_keeps_anonymous_quantities_and_other_customers(deliver, customer_history):
    before = sorted(Backorder.objects.values_list("quantity", "status"))

    deliver("customers/redact", "customers_redact")

    assert sorted(Backorder.objects.values_list("quantity", "status")) == before
    assert Order.objects.filter(email="").count() == 2
    assert Order.objects.get(email=OTHER).customer_name == "Max M"
    assert rows_mentioning(OTHER)  # the other customer is untouched
    assert not CustomerDataRequest.objects.exists()
    assert not Suppression.objects.filter(email__iexact=EMAIL).exists()
    assert not Notification.objects.filter(recipient__iexact=EMAIL).exists()


def test_a_redacted_body_is_still_json_with_personal_fields_nulled(deliver, customer_history):
    deliver("customers/redact", "customers_redact")
    body = json.loads(WebhookDelivery.objects.filter(topic="orders/create").order_by("pk").first().body)
    assert body["id"] == 5678901234567
    assert (body["email"], body["customer"], body["shipping_address"]) == (None, None, None)
    assert body["line_items"][0]["quantity"] == 2


def test_redacting_twice_is_harmless(deliver, customer_history):
    deliver("customers/redact", "customers_redact")
    deliver("customers/redact", "customers_redact")
    assert WebhookDelivery.objects.filter(topic="customers/redact", status="processed").count() == 2
    assert rows_mentioning(EMAIL) == []


def test_a_customers_data_export_holds_their_emails_not_the_owners(customer_history):
    """Jane cancelled on her page, so the owner was emailed about her order: that email is the
    shop's, not part of what Jane gets back."""
    export = json.dumps(CustomerDataRequest.objects.get().export)
    assert '"kind": "cancelled"' in export  # her own cancellation email
    assert "owner_cancelled" not in export
    assert "owner@acme.test" not in export
