"""A customer's erasure always completes: stored bodies are matched on their decoded values (an
address JSON-escaped or in another case, the customer id, orders the request does not list), each
is scrubbed on its own, and one that cannot be parsed is replaced whole and reported; afterwards a
dump of the whole database holds neither the address nor the name."""

import json
import logging
import subprocess

import pytest
from django.db import connection

from backorders.models import CustomerDataRequest, Order, WebhookDelivery
from backorders.services.privacy import REDACTED_BODY, customer_redact
from backorders.services.webhooks.bodies import MAX_NESTING
from tests.conftest import fixture

Status = WebhookDelivery.Status
EMAIL = "o&hara.siobhan@example.com"
FIRST, LAST = "Siobhan", "Quillfeather"
PHONE = "+353861234567"
CUSTOMER_ID = 7123456789012
LISTED, UNLISTED, OTHERS = 5678901234567, 5678901234991, 5678901234992
STREET = "Glasnevin Terrace 7"


def escaped(payload: dict) -> bytes:
    """JSON as the platform writes it: ``&``, ``<`` and ``>`` as ``\\u0026``, ``\\u003c``, ``\\u003e``."""
    text = json.dumps(payload)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e").encode()


def spellings(text: str) -> list[str]:
    """How ``text`` may appear in a stored body or column, lowercased."""
    forms = {text, json.dumps(text)[1:-1], text.replace("&", "\\u0026")}
    return sorted(form.lower() for form in forms)


def order_of(order_id: int, email: str, line_id: int, *, first: str, last: str) -> dict:
    order = fixture("orders_create")
    street = STREET if first == FIRST else "Hauptstraße 1"
    person = {"first_name": first, "last_name": last, "name": f"{first} {last}", "address1": street}
    order.update(
        id=order_id,
        name=f"#{order_id % 10000}",
        email=email,
        contact_email=email,
        phone=PHONE if first == FIRST else None,
        billing_address=dict(order["billing_address"], **person),
        shipping_address=dict(order["shipping_address"], **person),
        note=f"Please ring {first}",
    )
    customer_id = CUSTOMER_ID if first == FIRST else 7123456789999
    order["customer"] = dict(
        order["customer"],
        id=customer_id,
        email=email,
        first_name=first,
        last_name=last,
        default_address=dict(order["customer"]["default_address"], customer_id=customer_id, **person),
    )
    order["line_items"] = [dict(order["line_items"][0], id=line_id)]
    return order


def deep_body(email: str, levels: int = 10_000) -> bytes:
    return (
        escaped({"id": LISTED, "email": email, "customer": {"first_name": FIRST, "last_name": LAST}})[:-1]
        + b', "x": '
        + b"[" * levels
        + b"]" * levels
        + b"}"
    )


@pytest.fixture
def siobhan(deliver, shop):
    """Her orders (one the redaction lists, one it does not: found by address), written with the
    platform's escapes and in other cases; a fulfilment; a body nested too deep, refused at the
    endpoint; one stored before the endpoint refused such bodies; another customer's order."""
    deliver("products/create", "products_create")
    deliver(
        "orders/create",
        escaped(order_of(LISTED, "O&Hara.Siobhan@Example.COM", 13012345670001, first=FIRST, last=LAST)),
    )
    deliver(
        "orders/create",
        escaped(order_of(UNLISTED, "o&hara.siobhan@EXAMPLE.com", 13012345670002, first=FIRST, last=LAST)),
    )
    deliver(
        "orders/create",
        escaped(order_of(OTHERS, "max@example.org", 13012345670003, first="Maximilian", last="Other")),
    )
    fulfilment = fixture("fulfillments_create")
    fulfilment.update(order_id=UNLISTED, email=EMAIL.upper())
    fulfilment["destination"].update(
        first_name=FIRST, last_name=LAST, name=f"{FIRST} {LAST}", address1=STREET
    )
    fulfilment["line_items"] = [dict(fulfilment["line_items"][0], id=13012345670002)]
    deliver("fulfillments/create", escaped(fulfilment))
    assert deliver("orders/updated", deep_body(EMAIL)).status_code == 400
    WebhookDelivery.objects.create(  # stored as is, e.g. before bodies were bounded
        shop=shop,
        topic="orders/updated",
        webhook_id="legacy-deep",
        status=Status.PROCESSED,
        body=deep_body(EMAIL.upper(), levels=5_000).decode(),
    )
    statuses = list(WebhookDelivery.objects.order_by("pk").values_list("topic", "status"))
    assert statuses.count(("orders/create", Status.PROCESSED)) == 3, statuses
    assert Order.objects.filter(email__iexact=EMAIL).count() == 2
    return shop


def redact_request() -> bytes:
    request = fixture("customers_redact")
    request["customer"] = {"id": CUSTOMER_ID, "email": EMAIL, "phone": PHONE}
    request["orders_to_redact"] = [LISTED]
    return escaped(request)


def database_dump() -> str:
    settings = connection.settings_dict
    result = subprocess.run(
        [
            "pg_dump",
            "-h",
            settings["HOST"] or "127.0.0.1",
            "-p",
            str(settings["PORT"] or 5432),
            "-U",
            settings["USER"] or "postgres",
            "--data-only",
            settings["NAME"],
        ],
        capture_output=True,
        check=True,
        text=True,
        timeout=120,
        env={"PGPASSWORD": settings["PASSWORD"] or "", "PATH": "/usr/bin:/bin:/usr/local/bin"},
    )
    return result.stdout


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_after_customers_redact_a_database_dump_holds_neither_the_address_nor_the_name(
    deliver, siobhan, caplog
):
    before = database_dump().lower()
    for text in (EMAIL, FIRST, LAST, STREET):
        assert any(form in before for form in spellings(text)), f"the scenario must store {text!r}"

    with caplog.at_level(logging.WARNING, logger="backorders.services.privacy"):
        response = deliver("customers/redact", redact_request())

    assert response.status_code == 200
    redaction = WebhookDelivery.objects.get(topic="customers/redact")
    assert (redaction.status, redaction.attempts) == (Status.PROCESSED, 1)
    after = database_dump().lower()
    for text in (EMAIL, FIRST, LAST, STREET, PHONE):
        found = [form for form in spellings(text) if form in after]
        assert not found, f"{text!r} is still in the database as {found}"
    assert "maximilian" in after and "max@example.org" in after  # the other customer is kept
    assert "could not be parsed and scrubbed: it was replaced whole" in caplog.text


@pytest.mark.django_db
def test_bodies_that_cannot_be_parsed_are_replaced_whole_and_reported_and_the_rest_scrubbed(siobhan):
    counts = customer_redact(shop=siobhan, email=EMAIL, order_ids=[LISTED], customer_id=CUSTOMER_ID)

    deep = WebhookDelivery.objects.filter(topic="orders/updated").order_by("pk")
    assert [d.body for d in deep] == [REDACTED_BODY, REDACTED_BODY]
    assert counts["webhook_bodies_replaced"] == 2
    assert counts["orders"] == 2  # the listed order, and the one found by address
    unlisted = json.loads(
        WebhookDelivery.objects.get(topic="orders/create", body__contains=str(UNLISTED)).body
    )
    assert (unlisted["email"], unlisted["customer"], unlisted["billing_address"]) == (None, None, None)
    assert unlisted["line_items"][0]["quantity"] == 2
    fulfilment = json.loads(WebhookDelivery.objects.get(topic="fulfillments/create").body)
    assert (fulfilment["email"], fulfilment["destination"]) == (None, None)
    others = json.loads(WebhookDelivery.objects.get(topic="orders/create", body__contains=str(OTHERS)).body)
    assert others["customer"]["first_name"] == "Maximilian"


@pytest.mark.django_db
def test_a_body_deeper_than_the_parser_limit_does_not_stop_the_erasure(deliver, shop):
    deliver("products/create", "products_create")
    body = (
        b'{"email": "'
        + EMAIL.encode()
        + b'", "x": '
        + b"[" * (MAX_NESTING * 200)
        + b"]" * (MAX_NESTING * 200)
        + b"}"
    )
    WebhookDelivery.objects.create(shop=shop, topic="orders/updated", webhook_id="deep", body=body.decode())
    deliver("orders/create", escaped(order_of(LISTED, EMAIL, 13012345670001, first=FIRST, last=LAST)))

    counts = customer_redact(shop=shop, email=EMAIL.upper(), order_ids=[], customer_id=None)

    assert counts["webhook_bodies"] == 2
    assert WebhookDelivery.objects.get(webhook_id="deep").body == REDACTED_BODY
    assert Order.objects.get().email == ""


@pytest.mark.django_db
def test_a_body_is_found_by_the_customer_id_alone(deliver, shop):
    deliver("products/create", "products_create")
    order = order_of(LISTED, "", 13012345670001, first=FIRST, last=LAST)
    order.update(email=None, contact_email=None)
    order["customer"]["email"] = None
    deliver("orders/create", escaped(order))

    customer_redact(shop=shop, email="someone.else@example.com", order_ids=[], customer_id=CUSTOMER_ID)

    body = json.loads(WebhookDelivery.objects.get(topic="orders/create").body)
    assert (body["customer"], body["billing_address"]) == (None, None)


@pytest.mark.django_db
def test_a_data_request_export_holds_what_jsonb_cannot_as_replacement_characters(deliver, shop):
    request = fixture("customers_data_request")
    request["note"] = "nul \u0000 and lone \ud800 surrogate"
    request["ratio"] = float("nan")

    response = deliver("customers/data_request", json.dumps(request).encode())

    # NaN is not JSON: the body is refused at the door, and a body without it is answered.
    assert response.status_code == 400
    del request["ratio"]
    assert deliver("customers/data_request", json.dumps(request).encode()).status_code == 200
    delivery = WebhookDelivery.objects.filter(topic="customers/data_request").order_by("-pk").first()
    assert delivery.status == Status.PROCESSED, delivery.last_error
    export = CustomerDataRequest.objects.get().export
    notes = [d["body"].get("note") for d in export["webhook_deliveries"] if isinstance(d["body"], dict)]
    assert "nul \ufffd and lone \ufffd surrogate" in notes
