from backorders.models.alerts import AlertSignupCounter, RestockAlert, RestockAlertWave
from backorders.models.alternatives import AlternativeOverride, ProductAlternative
from backorders.models.catalog import InventoryLevel, Location, Product, Variant
from backorders.models.notifications import Notification, NotificationItem, Suppression
from backorders.models.orders import Backorder, Cancellation, Event, Order, OrderLine
from backorders.models.shops import ApiToken, BackorderMode, Shop
from backorders.models.suppliers import (
    PurchaseOrder,
    PurchaseOrderEvent,
    PurchaseOrderLine,
    Receipt,
    Supplier,
    SupplierItem,
)
from backorders.models.tenancy import Membership
from backorders.models.webhooks import CustomerDataRequest, PendingInventory, WebhookDelivery

__all__ = [
    "AlertSignupCounter",
    "ApiToken",
    "AlternativeOverride",
    "Backorder",
    "BackorderMode",
    "Cancellation",
    "CustomerDataRequest",
    "Event",
    "InventoryLevel",
    "Location",
    "Membership",
    "Notification",
    "NotificationItem",
    "Order",
    "OrderLine",
    "PendingInventory",
    "Product",
    "PurchaseOrder",
    "PurchaseOrderEvent",
    "PurchaseOrderLine",
    "Receipt",
    "RestockAlert",
    "RestockAlertWave",
    "ProductAlternative",
    "Shop",
    "Supplier",
    "SupplierItem",
    "Suppression",
    "Variant",
    "WebhookDelivery",
]
