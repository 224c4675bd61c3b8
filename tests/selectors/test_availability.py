from datetime import date

import pytest
from django.test import override_settings

from backorders.models import BackorderMode, Product
from backorders.selectors.availability import AvailabilityState, availability_state, policy_resolve


def test_variant_overrides_product_overrides_shop(shop, make_variant):
    shop.backorder_mode, shop.backorder_limit, shop.handling_days = BackorderMode.ALLOW, 50, 4
    shop.save()
    variant = make_variant(product__backorder_limit=20, product__handling_days=2, backorder_limit=5)
    policy = policy_resolve(variant)
    assert (policy.mode, policy.limit, policy.handling_days) == (BackorderMode.ALLOW, 5, 2)

    variant.product.backorder_mode = BackorderMode.DENY
    assert policy_resolve(variant).mode == BackorderMode.DENY
    variant.backorder_mode = BackorderMode.ALLOW
    assert policy_resolve(variant).mode == BackorderMode.ALLOW


def test_platform_continue_is_backorderable_unless_the_owner_overrode_it(make_variant):
    variant = make_variant(inventory_policy="continue")
    assert policy_resolve(variant).backorderable
    variant.backorder_mode = BackorderMode.DENY
    assert not policy_resolve(variant).backorderable


def test_platform_deny_beats_the_shop_default(shop, make_variant):
    shop.backorder_mode = BackorderMode.ALLOW
    shop.save()
    assert not policy_resolve(make_variant(inventory_policy="deny")).backorderable
    assert policy_resolve(make_variant(inventory_policy="")).backorderable


@override_settings(BACKORDERS={"DEFAULT_LOW_STOCK_THRESHOLD": 3})
@pytest.mark.parametrize(
    ("stock", "fields", "expected"),
    [
        (10, {}, AvailabilityState.IN_STOCK),
        (3, {}, AvailabilityState.LOW_STOCK),
        (1, {"low_stock_threshold": 0}, AvailabilityState.IN_STOCK),
        (0, {}, AvailabilityState.OUT_OF_STOCK),
        (0, {"inventory_policy": "continue"}, AvailabilityState.BACKORDER),
        (-2, {"inventory_policy": "continue"}, AvailabilityState.BACKORDER),
        (-2, {"inventory_policy": "deny"}, AvailabilityState.OUT_OF_STOCK),
        (10, {"discontinued": True}, AvailabilityState.DISCONTINUED),
        (0, {"product__status": Product.Status.ARCHIVED}, AvailabilityState.DISCONTINUED),
        (0, {"inventory_tracked": False}, AvailabilityState.IN_STOCK),
    ],
)
def test_availability_state(make_variant, stock, fields, expected):
    variant = make_variant(stock=stock, **fields)
    assert availability_state(variant) == expected


def test_backorder_state_turns_out_of_stock_when_the_limit_is_reached(make_variant, place):
    variant = make_variant(inventory_policy="continue", backorder_limit=2)
    place({variant: 2})
    from tests.conftest import fresh

    assert availability_state(fresh(variant)) == AvailabilityState.OUT_OF_STOCK


def test_manual_restock_date_is_inherited_from_the_product(make_variant):
    variant = make_variant(product__restock_date=date(2026, 12, 12))
    assert policy_resolve(variant).restock_date == date(2026, 12, 12)
