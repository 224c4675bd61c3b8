"""Reads about restock alerts: waiting counts and the owner's funnel."""

from datetime import timedelta

import pytest
from django.utils import timezone

from backorders.models import RestockAlert
from backorders.selectors.alerts import alert_funnel, alerts_waiting_counts
from backorders.services.audit import Actor
from backorders.services.checkout import LineInput, order_record
from tests.factories import next_id

pytestmark = pytest.mark.django_db
Status = RestockAlert.Status


def alert(variant, email, status, *, alerted_at=None):
    now = timezone.now()
    return RestockAlert.objects.create(
        shop=variant.shop,
        variant=variant,
        email=email,
        status=status,
        confirmed_at=now if status != Status.PENDING else None,
        alerted_at=alerted_at,
        expires_at=now + timedelta(days=7),
    )


def test_waiting_counts_are_confirmed_not_yet_alerted_alerts_in_one_query(
    make_variant, django_assert_num_queries
):
    a, b, c = (make_variant(stock=0, inventory_policy="deny") for _ in range(3))
    for n in range(3):
        alert(a, f"a{n}@example.com", Status.CONFIRMED)
    alert(a, "pending@example.com", Status.PENDING)
    alert(a, "done@example.com", Status.ALERTED, alerted_at=timezone.now())
    alert(b, "b@example.com", Status.CONFIRMED)
    with django_assert_num_queries(1):
        counts = alerts_waiting_counts(variant_ids=[a.pk, b.pk, c.pk])
    assert counts == {a.pk: 3, b.pk: 1, c.pk: 0}


def test_the_funnel_counts_a_purchase_only_from_the_alerted_address_within_the_window(
    make_variant, shop, django_assert_num_queries
):
    variant = make_variant(stock=5)
    other = make_variant(stock=5)
    alerted = timezone.now() - timedelta(days=3)
    alert(variant, "buyer@example.com", Status.ALERTED, alerted_at=alerted)
    alert(variant, "late@example.com", Status.ALERTED, alerted_at=alerted - timedelta(days=30))
    alert(variant, "elsewhere@example.com", Status.ALERTED, alerted_at=alerted)
    alert(variant, "waiting@example.com", Status.CONFIRMED)
    alert(variant, "pending@example.com", Status.PENDING)

    def buy(email, item, when):
        order_record(
            shop=shop,
            platform_id=next_id(),
            email=email,
            placed_at=when,
            lines=[LineInput(platform_id=next_id(), variant_id=item.pk, quantity=1)],
            actor=Actor.store("checkout"),
        )

    buy("Buyer@Example.com", variant, alerted + timedelta(days=1))  # counts (any case)
    buy("late@example.com", variant, alerted)  # 30 days after its alert: outside the window
    buy("elsewhere@example.com", other, alerted + timedelta(hours=1))  # another item

    with django_assert_num_queries(1):
        funnel = alert_funnel(shop=shop)
    row = funnel[variant.pk]
    assert (row.signed_up, row.confirmed, row.alerted, row.bought) == (5, 4, 3, 1)
    assert other.pk not in funnel
    assert alert_funnel(variant_ids=[other.pk]) == {}
