"""Every handled topic, posted through the real URL with a real signature, and its effect."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from backorders.models import (
    Backorder,
    CustomerDataRequest,
    InventoryLevel,
    Location,
    Order,
    PendingInventory,
    Product,
    Shop,
    Variant,
    WebhookDelivery,
)
from tests.conftest import fixture

pytestmark = pytest.mark.django_db

Status = WebhookDelivery.Status
PRODUCT, BLUE, GREEN = 7981234567890, 44012345678901, 44012345678902
ITEM_BLUE, ITEM_GREEN, LOCATION = 46012345678901, 46012345678902, 65432109876
ORDER, LINE_BLUE, LINE_WRAP = 5678901234567, 13012345678901, 13012345678902


def variant(platform_id: int) -> Variant:
    return Variant.objects.select_related("product", "shop").get(platform_id=platform_id)


def last_status() -> str:
    return WebhookDelivery.objects.order_by("-pk").first().status


def backorder() -> Backorder:
    return Backorder.objects.get(line__platform_id=LINE_BLUE)


@pytest.fixture
def catalog(deliver):
    assert deliver("products/create", "products_create").status_code == 200


@pytest.fixture
def ordered(deliver, catalog):
    """The blue mug (continue, no stock) ordered twice: a backorder of 2 waiting."""
    assert deliver("orders/create", "orders_create").status_code == 200


# Catalog


def test_products_create_upserts_the_product_and_its_variants(deliver):
    deliver("products/create", "products_create")

    product = Product.objects.get()
    assert (product.platform_id, product.title, product.handle, product.vendor) == (
        PRODUCT,
        "Ceramic Mug",
        "ceramic-mug",
        "Tide & Twine",
    )
    assert product.tags == ["ceramic", "kitchen", "mug"]
    assert product.image_url.startswith("https://cdn.shopify.com/")
    assert product.platform_updated_at == datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
    blue, green = variant(BLUE), variant(GREEN)
    assert (blue.sku, blue.price, blue.inventory_item_id, blue.inventory_policy) == (
        "MUG-BLUE",
        Decimal("24.00"),
        ITEM_BLUE,
        "continue",
    )
    assert green.inventory_policy == "deny"


def test_products_update_changes_the_product_and_archives_a_variant_that_disappeared(deliver, catalog):
    deliver("products/update", "products_update")

    product = Product.objects.get()
    assert product.title == "Ceramic Mug 350 ml"
    assert product.tags == ["ceramic", "mug", "gift"]
    assert not variant(BLUE).is_archived
    assert variant(GREEN).is_archived  # archived, not deleted
    assert last_status() == Status.PROCESSED


def test_products_delete_archives_the_product_and_flags_its_waiting_backorders(deliver, ordered):
    deliver("products/delete", "products_delete")

    product = Product.objects.get()
    assert product.status == Product.Status.ARCHIVED
    assert all(v.is_archived for v in product.variants.all())
    waiting = backorder()
    assert waiting.status == Backorder.Status.WAITING
    assert waiting.flagged and "deleted" in waiting.flag_reason
    assert waiting.events.filter(kind="flagged").count() == 1
    deliver("products/delete", "products_delete")  # again: nothing more
    assert backorder().events.filter(kind="flagged").count() == 1


def test_products_delete_of_an_unknown_product_does_nothing(deliver):
    deliver("products/delete", {"id": 1234})
    assert last_status() == Status.PROCESSED


def test_inventory_levels_update_sets_available_at_the_platform_location(deliver, catalog):
    deliver("inventory_levels/update", "inventory_levels_update")

    level = InventoryLevel.objects.get(variant__platform_id=BLUE)
    assert (level.location.platform_id, level.available) == (LOCATION, 5)
    assert variant(BLUE).available == 5


def test_inventory_levels_connect_sets_available_too(deliver, catalog):
    deliver("inventory_levels/connect", "inventory_levels_connect")
    assert variant(GREEN).available == 3


def test_a_second_location_keeps_its_own_level(deliver, catalog):
    deliver("inventory_levels/update", "inventory_levels_update")
    deliver(
        "inventory_levels/update",
        dict(fixture("inventory_levels_update"), location_id=65432109877, available=2),
    )

    assert Location.objects.filter(platform_id__isnull=False).count() == 2
    assert variant(BLUE).available == 7


def test_inventory_items_update_untracked_means_never_backordered(deliver, catalog, shop):
    deliver("inventory_items/update", "inventory_items_update")
    assert variant(GREEN).inventory_tracked is False

    order = fixture("orders_create")
    order["line_items"][0].update(variant_id=GREEN, sku="MUG-GREEN", quantity=9, current_quantity=9)
    deliver("orders/create", order)
    assert Order.objects.get().lines.get(platform_id=LINE_BLUE).quantity == 9
    assert not Backorder.objects.exists()


def test_variants_in_stock_and_out_of_stock_set_a_single_location_variant(deliver, catalog):
    deliver("inventory_levels/connect", "inventory_levels_connect")
    deliver("variants/in_stock", "variants_in_stock")
    assert variant(GREEN).available == 4
    deliver("variants/out_of_stock", "variants_out_of_stock")
    assert variant(GREEN).available == 0
    deliver("variants/in_stock", "variants_in_stock")  # older than the out-of-stock: ignored
    assert variant(GREEN).available == 0


def test_variants_in_stock_leaves_a_multi_location_variant_to_the_level_webhooks(deliver, catalog):
    deliver("inventory_levels/connect", "inventory_levels_connect")
    deliver("inventory_levels/connect", dict(fixture("inventory_levels_connect"), location_id=65432109877))
    deliver("variants/in_stock", "variants_in_stock")
    assert variant(GREEN).available == 6
    assert last_status() == Status.PROCESSED


# Orders


def test_orders_create_records_the_order_and_backorders_the_short_line(deliver, ordered):
    order = Order.objects.get()
    assert (order.platform_id, order.number, order.email, order.customer_name, order.customer_locale) == (
        ORDER,
        "#1001",
        "jane.doe@example.com",
        "Jane Doe",
        "de",
    )
    assert order.source == Order.Source.PLATFORM
    lines = {line.platform_id: line for line in order.lines.all()}
    assert lines[LINE_BLUE].variant == variant(BLUE)
    assert lines[LINE_BLUE].title == "Ceramic Mug — Blue"
    assert (lines[LINE_WRAP].variant, lines[LINE_WRAP].quantity) == (None, 1)  # custom item: stored only
    waiting = backorder()
    assert (waiting.quantity, waiting.status, waiting.flagged) == (2, Backorder.Status.WAITING, False)
    assert Backorder.objects.count() == 1
    assert variant(BLUE).available == -2


def test_orders_create_never_refuses_and_flags_a_line_over_the_limit(deliver, catalog, shop):
    Shop.objects.filter(pk=shop.pk).update(backorder_limit=1)
    deliver("orders/create", "orders_create")
    assert last_status() == Status.PROCESSED
    assert backorder().quantity == 2
    assert backorder().flagged


def test_orders_updated_applies_a_quantity_edit(deliver, ordered):
    deliver("orders/updated", "orders_updated")

    assert Order.objects.get().lines.get(platform_id=LINE_BLUE).quantity == 1
    assert backorder().quantity == 1
    assert variant(BLUE).units_waiting == 1


def test_orders_updated_with_a_removed_line_cancels_its_backorder(deliver, ordered):
    order = fixture("orders_updated")
    order["line_items"] = order["line_items"][1:]
    deliver("orders/updated", order)
    assert backorder().status == Backorder.Status.CANCELLED
    assert variant(BLUE).units_waiting == 0


def test_orders_cancelled_cancels_every_open_backorder_and_releases_the_units(deliver, ordered):
    deliver("orders/cancelled", "orders_cancelled")

    assert Order.objects.get().cancelled_at == datetime(2026, 11, 2, 19, 0, tzinfo=UTC)
    assert backorder().status == Backorder.Status.CANCELLED
    blue = variant(BLUE)
    assert (blue.available, blue.units_waiting) == (0, 0)


def test_orders_fulfilled_marks_every_line_shipped_with_tracking(deliver, ordered):
    deliver("orders/fulfilled", "orders_fulfilled")

    shipped = backorder()
    assert shipped.status == Backorder.Status.FULFILLED
    assert (shipped.tracking_company, shipped.tracking_number) == ("UPS", "1Z999AA10123456784")
    assert Order.objects.get().lines.get(platform_id=LINE_BLUE).quantity_fulfilled == 2


def test_an_order_line_without_a_variant_id_is_stored_and_never_backordered(deliver, catalog):
    order = fixture("orders_create")
    order["line_items"][0]["variant_id"] = None
    deliver("orders/create", order)
    assert Order.objects.get().lines.filter(variant=None).count() == 2
    assert not Backorder.objects.exists()


def test_an_order_for_a_deleted_product_we_never_saw_is_stored_without_the_variant(deliver):
    order = fixture("orders_create")
    order["line_items"][0].update(product_exists=False)
    deliver("orders/create", order)
    assert last_status() == Status.PROCESSED
    assert Order.objects.get().lines.filter(variant=None).count() == 2


def test_fulfillments_create_ships_the_lines_with_tracking(deliver, ordered):
    deliver("fulfillments/create", "fulfillments_create")

    shipped = backorder()
    assert shipped.status == Backorder.Status.FULFILLED
    assert shipped.tracking_url.startswith("https://www.ups.com/")
    deliver("fulfillments/update", "fulfillments_update")  # a later status change: harmless
    assert last_status() == Status.PROCESSED
    assert backorder().status == Backorder.Status.FULFILLED


def test_a_partial_fulfillment_keeps_the_backorder_open(deliver, ordered):
    partial = fixture("fulfillments_create")
    partial["line_items"][0].update(quantity=1, fulfillable_quantity=1)
    deliver("fulfillments/create", partial)
    assert Order.objects.get().lines.get(platform_id=LINE_BLUE).quantity_fulfilled == 1
    assert backorder().status == Backorder.Status.WAITING


@pytest.mark.parametrize("status", ["pending", "open", "cancelled", "failure", "error"])
def test_a_fulfillment_that_did_not_ship_changes_nothing(deliver, ordered, status):
    deliver("fulfillments/create", dict(fixture("fulfillments_create"), status=status))
    assert backorder().status == Backorder.Status.WAITING


def test_a_fulfillment_for_an_order_not_recorded_yet_waits_for_the_order_payload(deliver, catalog):
    deliver("fulfillments/create", "fulfillments_create")
    assert last_status() == Status.PROCESSED
    deliver("orders/create", "orders_create")
    deliver("orders/fulfilled", "orders_fulfilled")
    assert backorder().status == Backorder.Status.FULFILLED


# The shop


def test_app_uninstalled_deactivates_the_shop_and_keeps_its_data(deliver, ordered, shop):
    assert deliver("app/uninstalled", "app_uninstalled").status_code == 200

    shop.refresh_from_db()
    assert shop.is_active is False
    assert Order.objects.exists()
    assert deliver("orders/updated", "orders_updated").status_code == 401


def test_customers_data_request_keeps_an_export_for_the_owner(deliver, ordered):
    deliver("customers/data_request", "customers_data_request")

    request = CustomerDataRequest.objects.get()
    assert (request.platform_request_id, request.customer_email) == (9912345, "jane.doe@example.com")
    (order,) = request.export["orders"]
    assert (order["id"], order["email"], order["customer_name"]) == (
        ORDER,
        "jane.doe@example.com",
        "Jane Doe",
    )
    assert order["backorders"][0]["quantity"] == 2
    assert {d["topic"] for d in request.export["webhook_deliveries"]} >= {"orders/create"}
    deliver("customers/data_request", "customers_data_request")  # the same request again
    assert CustomerDataRequest.objects.count() == 1


def test_a_privacy_payload_for_another_shop_is_rejected(deliver, ordered):
    deliver("customers/redact", dict(fixture("customers_redact"), shop_domain="other.myshopify.com"))
    assert last_status() == Status.REJECTED
    assert Order.objects.get().email == "jane.doe@example.com"


def test_shop_redact_deletes_all_of_the_shops_data(deliver, ordered, shop):
    deliver("app/uninstalled", "app_uninstalled")
    two_days_later = {"X-Shopify-Triggered-At": "2026-11-04T17:00:00Z"}  # as the platform sends it
    assert deliver("shop/redact", "shop_redact", headers=two_days_later).status_code == 200

    assert not Shop.objects.filter(pk=shop.pk).exists()
    for model in (Product, Variant, Order, Backorder, WebhookDelivery, Location, InventoryLevel):
        assert not model.objects.exists(), model
    assert deliver("orders/create", "orders_create").status_code == 401  # an unknown shop now


# The platform's own null-heavy sample payloads ("send test notification")


@pytest.mark.parametrize(
    ("topic", "name"),
    [
        ("orders/create", "sample_orders_create"),
        ("products/create", "sample_products_create"),
        ("inventory_levels/update", "sample_inventory_levels_update"),
        ("inventory_items/update", "sample_inventory_items_update"),
        ("fulfillments/create", "sample_fulfillments_create"),
        ("products/delete", "sample_products_delete"),
        ("variants/in_stock", "sample_variants_in_stock"),
    ],
)
def test_the_platforms_sample_payloads_are_processed_without_error(deliver, topic, name):
    assert deliver(topic, name).status_code == 200
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.last_error) == (Status.PROCESSED, "")


def test_the_sample_order_cancelled_on_create_is_recorded_cancelled_without_backorders(deliver):
    deliver("orders/create", "sample_orders_create")
    order = Order.objects.get()
    assert order.cancelled_at is not None
    assert order.lines.filter(variant=None).count() == 2
    assert not Backorder.objects.exists()


def test_the_sample_product_and_its_stock_are_recorded(deliver):
    deliver("products/create", "sample_products_create")
    deliver("variants/in_stock", "sample_variants_in_stock")
    small = variant(642667041472713922)
    assert (small.inventory_item_id, small.sku, small.available) == (None, "", 75)
    deliver("products/delete", "sample_products_delete")
    assert Product.objects.get().status == Product.Status.ARCHIVED


# Out of order


def test_products_update_before_products_create_keeps_the_newer_data(deliver):
    deliver("products/update", "products_update")
    deliver("products/create", "products_create")

    assert Product.objects.get().title == "Ceramic Mug 350 ml"
    assert not Variant.objects.filter(platform_id=GREEN).exists()
    assert WebhookDelivery.objects.filter(status=Status.PROCESSED).count() == 2


def test_an_older_inventory_level_after_a_newer_one_is_ignored(deliver, catalog):
    deliver("inventory_levels/update", "inventory_levels_update")  # 5 at 13:00
    deliver(
        "inventory_levels/update",
        dict(fixture("inventory_levels_update"), available=1, updated_at="2026-11-02T12:59:59.5-05:00"),
    )
    assert variant(BLUE).available == 5


def test_an_inventory_level_before_its_product_is_applied_when_the_product_arrives(deliver):
    deliver("inventory_levels/update", "inventory_levels_update")
    pending = PendingInventory.objects.get()
    assert (pending.inventory_item_id, pending.location_platform_id, pending.available) == (
        ITEM_BLUE,
        LOCATION,
        5,
    )

    deliver("products/create", "products_create")

    assert variant(BLUE).available == 5
    assert not PendingInventory.objects.exists()


def test_an_early_level_whose_location_is_still_unknown_waits_for_the_sweeper_which_applies_it(deliver):
    """Applying kept facts never creates a location (its caller holds variant locks, and
    locations come first in the lock order): a fact whose location was not prepared stays kept
    until the sweeper, which creates the location before it locks anything."""
    from backorders.models import Location
    from backorders.services.audit import Actor
    from backorders.services.webhooks import pending_inventory_apply, pending_inventory_sweep

    deliver("products/create", "products_create")
    PendingInventory.objects.create(
        shop=variant(BLUE).shop, inventory_item_id=ITEM_BLUE, location_platform_id=LOCATION, available=4
    )

    applied = pending_inventory_apply(
        shop=variant(BLUE).shop, inventory_item_ids=[ITEM_BLUE], actor=Actor.system()
    )
    assert applied == 0 and PendingInventory.objects.count() == 1
    assert not Location.objects.filter(platform_id=LOCATION).exists()

    assert pending_inventory_sweep() == 1
    assert variant(BLUE).available == 4
    assert Location.objects.filter(platform_id=LOCATION).count() == 1
    assert not PendingInventory.objects.exists()


def test_of_two_early_levels_for_one_item_the_newer_one_is_kept(deliver):
    deliver("inventory_levels/update", "inventory_levels_update")
    deliver(
        "inventory_levels/update",
        dict(fixture("inventory_levels_update"), available=9, updated_at="2026-11-01T00:00:00Z"),
    )
    deliver("products/create", "products_create")
    assert variant(BLUE).available == 5


def test_an_untracked_item_before_its_product_is_applied_when_the_product_arrives(deliver):
    deliver("inventory_items/update", "inventory_items_update")
    deliver("products/create", "products_create")
    assert variant(GREEN).inventory_tracked is False
    assert not PendingInventory.objects.exists()


def test_orders_updated_before_orders_create_keeps_the_edit(deliver, catalog):
    deliver("orders/updated", "orders_updated")
    deliver("orders/create", "orders_create")
    assert Order.objects.get().lines.get(platform_id=LINE_BLUE).quantity == 1
    assert backorder().quantity == 1


def test_orders_cancelled_before_orders_create_leaves_the_order_cancelled(deliver, catalog):
    deliver("orders/cancelled", "orders_cancelled")
    deliver("orders/create", "orders_create")
    assert Order.objects.get().cancelled_at is not None
    assert not Backorder.objects.exists()
    assert variant(BLUE).available == 0


# The whole story, through the webhook URL


@pytest.mark.smoke
def test_full_story_backorder_waits_then_is_allocated_then_fulfilled(deliver, mailoutbox):
    assert deliver("products/create", "products_create").status_code == 200
    assert variant(BLUE).available == 0

    assert deliver("orders/create", "orders_create").status_code == 200
    waiting = backorder()
    assert (waiting.status, waiting.quantity) == (Backorder.Status.WAITING, 2)

    assert deliver("inventory_levels/update", "inventory_levels_update").status_code == 200  # 5 available
    assert backorder().status == Backorder.Status.ALLOCATED
    assert backorder().quantity_allocated == 2

    assert deliver("fulfillments/create", "fulfillments_create").status_code == 200
    done = backorder()
    assert done.status == Backorder.Status.FULFILLED
    assert (done.tracking_company, done.tracking_number) == ("UPS", "1Z999AA10123456784")
    assert list(done.events.values_list("kind", "actor_kind", "actor_name")) == [
        ("created", "platform", "orders/create"),
        ("allocated", "platform", "inventory_levels/update"),
        ("fulfilled", "platform", "fulfillments/create"),
    ]
    blue = variant(BLUE)
    assert (blue.available, blue.units_waiting, blue.units_allocated) == (5, 0, 0)
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {Status.PROCESSED}


@pytest.mark.smoke
def test_cancel_story_the_platform_cancels_and_the_units_go_back(deliver):
    deliver("products/create", "products_create")
    deliver("orders/create", "orders_create")
    assert backorder().status == Backorder.Status.WAITING

    deliver("orders/cancelled", "orders_cancelled")

    cancelled = backorder()
    assert cancelled.status == Backorder.Status.CANCELLED
    assert cancelled.cancel_reason == "customer"
    assert (variant(BLUE).available, variant(BLUE).units_waiting) == (0, 0)
    deliver("orders/cancelled", "orders_cancelled")  # redelivered under a new webhook id: no change
    assert backorder().events.filter(kind="cancelled").count() == 1
