"""The platform's JSON payloads as the services' plain values: pure functions, no database.

Each function takes the decoded body of one topic and returns dataclasses (the services' own where
they exist), or raises ``PayloadError`` naming the field that is missing or of the wrong type.
Ids become ``int`` (JSON integers up to ~9.2e18; numeric strings and ``gid://…/123`` are accepted
too), money ``Decimal``, timestamps aware datetimes (variable fractional digits, any offset).
"""

from backorders.platforms.shopify.payloads.catalog import (
    InventoryItemData,
    InventoryLevelData,
    VariantStockData,
    inventory_item,
    inventory_level,
    product_data,
    resource_id,
    variant_data,
    variant_stock,
)
from backorders.platforms.shopify.payloads.fields import (
    PayloadError,
    as_bool,
    as_datetime,
    as_decimal,
    as_id,
    as_int,
    as_list,
    as_object,
    as_optional_id,
    as_optional_int,
    as_str,
    required,
)
from backorders.platforms.shopify.payloads.orders import (
    FulfillmentData,
    FulfillmentLineData,
    OrderData,
    OrderLineData,
    TrackingData,
    fulfillment_data,
    order_data,
    order_line,
    tracking_data,
)
from backorders.platforms.shopify.payloads.privacy import CustomerPrivacyData, customer_privacy, shop_domain

__all__ = [
    "CustomerPrivacyData",
    "FulfillmentData",
    "FulfillmentLineData",
    "InventoryItemData",
    "InventoryLevelData",
    "OrderData",
    "OrderLineData",
    "PayloadError",
    "TrackingData",
    "VariantStockData",
    "as_bool",
    "as_datetime",
    "as_decimal",
    "as_id",
    "as_int",
    "as_list",
    "as_object",
    "as_optional_id",
    "as_optional_int",
    "as_str",
    "customer_privacy",
    "fulfillment_data",
    "inventory_item",
    "inventory_level",
    "order_data",
    "order_line",
    "product_data",
    "required",
    "resource_id",
    "shop_domain",
    "tracking_data",
    "variant_data",
    "variant_stock",
]
