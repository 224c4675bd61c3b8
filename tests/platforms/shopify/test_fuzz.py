"""Hostile values in every topic, signed and posted through the URL, then processed.

Each example takes the topic's realistic fixture, replaces one to three of its fields (anywhere
in it) with hostile values (huge, negative or fractional numbers, NUL, lone surrogates, long
strings, wrong types, deep nesting, script URLs) and asserts the promises: never a 5xx; every
delivery ends processed, ignored or rejected, a rejection with a reason, after one attempt; a
rejected delivery changed no other table. Each example runs in a savepoint rolled back after it,
so that one example's effect (an uninstall, a shop redaction) does not change the next's start.
"""

import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.apps import apps
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backorders.models import Shop, WebhookDelivery
from backorders.platforms.shopify.handlers import HANDLERS
from tests.conftest import fixture

pytestmark = pytest.mark.django_db

Status = WebhookDelivery.Status
FINISHED = {Status.PROCESSED, Status.IGNORED, Status.REJECTED}

# The realistic fixture each topic's examples start from.
TOPIC_FIXTURES = {
    "products/create": "products_create",
    "products/update": "products_update",
    "products/delete": "products_delete",
    "inventory_levels/update": "inventory_levels_update",
    "inventory_levels/connect": "inventory_levels_connect",
    "inventory_items/create": "inventory_items_update",
    "inventory_items/update": "inventory_items_update",
    "variants/in_stock": "variants_in_stock",
    "variants/out_of_stock": "variants_out_of_stock",
    "orders/create": "orders_create",
    "orders/updated": "orders_updated",
    "orders/cancelled": "orders_cancelled",
    "orders/fulfilled": "orders_fulfilled",
    "orders/partially_fulfilled": "orders_updated",
    "fulfillments/create": "fulfillments_create",
    "fulfillments/update": "fulfillments_update",
    "app/uninstalled": "app_uninstalled",
    "customers/data_request": "customers_data_request",
    "customers/redact": "customers_redact",
    "shop/redact": "shop_redact",
}


@dataclass(frozen=True)
class Deep:
    """Arrays nested ``depth`` deep: spliced into the body as text (``json.dumps`` would recurse)."""

    depth: int

    @property
    def token(self) -> str:
        return f"__deep_{self.depth}__"

    @property
    def text(self) -> str:
        return "[" * self.depth + "1" + "]" * self.depth


def _not_an_id(text: str) -> bool:
    # A digit string is a valid id the catalog does not know: a variant_id of that kind is
    # (rightly) retried until its product arrives, which is not what these examples are about.
    return not text.strip().isdigit()


HOSTILE = st.one_of(
    st.integers(min_value=2**63, max_value=2**80),
    st.integers(min_value=-(2**80), max_value=-1),
    st.sampled_from([0, 10**6 + 1, 10**12, 2**31, 2**63 - 1, 2**64, 1e30, -1e30, 1.5, 1e308, -0.0]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(
        [
            "\x00",
            "mug\x00blue",
            "\ud800",
            "x\udfffy",
            "javascript:alert(document.domain)",
            "data:text/html,<script>alert(1)</script>",
            "<script>alert(1)</script>",
            "9999-12-31T23:59:59-12:00",
            "0001-01-01T00:00:00+01:00",
            "1e30",
            "-19.99",
            "NaN",
            "٣",
            "gid://shopify/Order/99999999999999999999",
            "9" * 5000,
        ]
    ),
    st.text(min_size=256, max_size=3000),
    st.text(max_size=30).filter(_not_an_id),
    st.booleans(),
    st.none(),
    st.lists(st.integers(min_value=-(2**70), max_value=2**70), max_size=3),
    st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=3),
    st.integers(min_value=65, max_value=10_000).map(Deep),
)


def paths(document: Any) -> list[tuple[Any, ...]]:
    """Every position in a JSON document (keys and indices from the root), found iteratively."""
    found: list[tuple[Any, ...]] = []
    stack: list[tuple[tuple[Any, ...], Any]] = [((), document)]
    while stack:
        path, value = stack.pop()
        children = (
            value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
        )
        for key, child in children:
            found.append((*path, key))
            stack.append(((*path, key), child))
    return sorted(found, key=repr)


def replaced(document: Any, path: tuple[Any, ...], value: Any) -> None:
    for key in path[:-1]:
        document = document[key]
    document[path[-1]] = value


def snapshot() -> dict[str, list[tuple]]:
    """Every row of every table of the app but the deliveries."""
    return {
        model._meta.label: list(model._default_manager.order_by("pk").values_list())
        for model in apps.get_app_config("backorders").get_models()
        if model is not WebhookDelivery
    }


@pytest.fixture
def history(deliver, shop):
    """The catalog and an order with a backorder, as most topics' fixtures expect."""
    assert deliver("products/create", "products_create").status_code == 200
    assert deliver("orders/create", "orders_create").status_code == 200
    return shop


def test_every_topic_has_a_fuzz_fixture():
    assert set(TOPIC_FIXTURES) == set(HANDLERS)


@pytest.mark.parametrize("topic", sorted(TOPIC_FIXTURES))
def test_hostile_values_are_processed_or_rejected_with_a_reason_never_a_5xx_nor_a_partial_write(
    deliver, history, topic
):
    base = fixture(TOPIC_FIXTURES[topic])
    positions = paths(base)

    @settings(
        max_examples=25,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        changes=st.lists(st.tuples(st.sampled_from(positions), HOSTILE), min_size=1, max_size=3),
        extra=st.none() | st.tuples(st.text(max_size=10), HOSTILE),
    )
    def example(changes: list[tuple[tuple[Any, ...], Any]], extra: tuple[str, Any] | None) -> None:
        payload = json.loads(json.dumps(base))
        deep = [value for _, value in changes if isinstance(value, Deep)]
        for path, value in changes:
            try:
                replaced(payload, path, value.token if isinstance(value, Deep) else value)
            except (KeyError, IndexError, TypeError):  # an earlier change removed that position
                pass
        if extra is not None:
            payload[extra[0]] = extra[1].token if isinstance(extra[1], Deep) else extra[1]
            deep += [extra[1]] if isinstance(extra[1], Deep) else []
        text = json.dumps(payload)  # as the platform escapes: "\ud800", "\u0000"
        for value in deep:
            text = text.replace(f'"{value.token}"', value.text)
        body = text.encode()

        with transaction.atomic():
            Shop.objects.filter(pk=history.pk).update(is_active=True)
            last = WebhookDelivery.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
            before = snapshot()

            response = deliver(topic, body)

            assert response.status_code in (200, 400), response.content[:300]
            new = list(WebhookDelivery.objects.filter(pk__gt=last))
            if not new and topic == "shop/redact":  # processed: the shop went, its deliveries too
                assert not Shop.objects.filter(pk=history.pk).exists()
                transaction.set_rollback(True)
                return
            assert len(new) == 1, "the delivery was stored"
            delivery = new[0]
            assert delivery.status in FINISHED, (delivery.status, delivery.last_error)
            if delivery.status == Status.REJECTED:
                assert delivery.last_error.strip()
                assert delivery.attempts <= 1, delivery.last_error
                assert snapshot() == before, f"a rejected delivery wrote: {delivery.last_error}"
            if response.status_code == 400:
                assert delivery.status == Status.REJECTED
            transaction.set_rollback(True)

    example()
