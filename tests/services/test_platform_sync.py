"""The rules for applying a platform's reports, tested without any platform's payloads."""

import pytest

from backorders.models import InventoryLevel
from backorders.services.audit import Actor
from backorders.services.lifecycle import Tracking
from backorders.services.platform_sync import (
    NotYetKnown,
    PlatformLine,
    ShipmentLine,
    order_line_variants,
    order_shipments_apply,
    variant_total_stock_set,
)
from backorders.services.stock import stock_set_available
from tests.factories import InventoryLevelFactory, LocationFactory, VariantFactory, next_id

pytestmark = pytest.mark.django_db

PLATFORM = Actor.platform("variants/in_stock")


def test_a_total_is_stored_at_the_only_location_the_variant_is_stocked_at(shop):
    level = InventoryLevelFactory(variant=VariantFactory(product__shop=shop), available=1)
    LocationFactory(shop=shop)  # a second location of the shop, where the variant is not stocked

    stored = variant_total_stock_set(variant=level.variant, available=5, updated_at=None, actor=PLATFORM)

    assert stored is not None and stored.location_id == level.location_id
    assert list(InventoryLevel.objects.filter(variant=level.variant).values_list("available", flat=True)) == [
        5
    ]


def test_a_total_of_a_variant_stocked_at_two_locations_is_not_stored(shop):
    level = InventoryLevelFactory(variant=VariantFactory(product__shop=shop), available=1)
    InventoryLevelFactory(variant=level.variant, available=2)

    assert (
        variant_total_stock_set(variant=level.variant, available=9, updated_at=None, actor=PLATFORM) is None
    )
    assert sorted(
        InventoryLevel.objects.filter(variant=level.variant).values_list("available", flat=True)
    ) == [
        1,
        2,
    ]


def test_a_total_of_an_unstocked_variant_goes_to_the_default_location_only_in_a_shop_with_one(shop):
    variant = VariantFactory(product__shop=shop)
    assert variant_total_stock_set(variant=variant, available=3, updated_at=None, actor=PLATFORM) is not None
    assert InventoryLevel.objects.get(variant=variant).available == 3

    other = VariantFactory(product__shop=shop)
    LocationFactory(shop=shop)  # now two locations: a total could belong to either
    assert variant_total_stock_set(variant=other, available=3, updated_at=None, actor=PLATFORM) is None
    assert not InventoryLevel.objects.filter(variant=other).exists()


def test_an_order_cancelled_before_it_was_recorded_gets_no_variants(shop):
    variant = VariantFactory(product__shop=shop)
    lines = [PlatformLine(variant_id=variant.platform_id)]

    assert order_line_variants(shop=shop, order_platform_id=next_id(), cancelled=True, lines=lines) == {}
    assert order_line_variants(shop=shop, order_platform_id=next_id(), cancelled=False, lines=lines) == {
        variant.platform_id: variant.pk
    }


def test_a_cancelled_order_already_recorded_keeps_its_variants(shop, place):
    variant = VariantFactory(product__shop=shop)
    order = place({variant: 1}, accepted=True)

    found = order_line_variants(
        shop=shop,
        order_platform_id=order.platform_id,
        cancelled=True,
        lines=[PlatformLine(variant_id=variant.platform_id)],
    )
    assert found == {variant.platform_id: variant.pk}


def test_an_unknown_variant_of_an_existing_product_is_retried_and_of_a_deleted_one_is_dropped(shop):
    unknown, deleted = next_id(), next_id()
    with pytest.raises(NotYetKnown, match=f"Variant\\(s\\) {unknown} are not in the catalog yet"):
        order_line_variants(
            shop=shop,
            order_platform_id=next_id(),
            cancelled=False,
            lines=[PlatformLine(variant_id=unknown), PlatformLine(variant_id=deleted, product_exists=False)],
        )
    assert (
        order_line_variants(
            shop=shop,
            order_platform_id=next_id(),
            cancelled=False,
            lines=[PlatformLine(variant_id=deleted, product_exists=False), PlatformLine(variant_id=None)],
        )
        == {}
    )


def test_units_shipped_are_cumulative_from_what_is_still_to_ship(shop, place):
    variant = VariantFactory(product__shop=shop)
    stock_set_available(variant=variant, available=10, actor=PLATFORM)
    order = place({variant: 4}, accepted=True)
    line = order.lines.get()

    # This shipment carries 1 unit, but the platform says only 1 of 4 is still to ship: 3 shipped.
    order_shipments_apply(
        order=order,
        lines=[
            ShipmentLine(platform_id=line.platform_id, quantity=1, still_to_ship=1),
            ShipmentLine(next_id(), 2),
        ],
        tracking=Tracking(),
        actor=PLATFORM,
    )
    line.refresh_from_db()
    assert line.quantity_fulfilled == 3

    # Without a count still to ship, the shipment's own units count (never less than before).
    order_shipments_apply(
        order=order,
        lines=[ShipmentLine(platform_id=line.platform_id, quantity=4)],
        tracking=Tracking(),
        actor=PLATFORM,
    )
    line.refresh_from_db()
    assert line.quantity_fulfilled == 4
