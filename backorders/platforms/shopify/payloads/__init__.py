"""The platform's JSON payloads as the services' plain values: pure functions, no database.

Each function takes the decoded body of one topic and returns dataclasses (the services' own where
they exist), or raises ``PayloadError`` naming the field that is missing or of the wrong type.
Ids become ``int`` (JSON integers up to ~9.2e18; numeric strings and ``gid://…/123`` are accepted
too), money ``Decimal``, timestamps aware datetimes (variable fractional digits, any offset).
Every value is bounded to what its column holds (see ``fields``): a delivery with one that is not
is rejected with the field named. URLs that are not http(s) are dropped, not refused.
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
    ID_MAX,
    QUANTITY_MAX,
    STOCK_MAX,
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
    as_stock,
    as_str,
    as_url,
    max_length,
    required,
    text_checked,
    timestamp_parse,
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
    "ID_MAX",
    "QUANTITY_MAX",
    "STOCK_MAX",
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
    "as_stock",
    "as_str",
    "as_url",
    "customer_privacy",
    "fulfillment_data",
    "inventory_item",
    "inventory_level",
    "max_length",
    "order_data",
    "order_line",
    "product_data",
    "required",
    "resource_id",
    "shop_domain",
    "text_checked",
    "timestamp_parse",
    "tracking_data",
    "variant_data",
    "variant_stock",
]
