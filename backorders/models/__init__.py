from backorders.models.alternatives import AlternativeOverride, ProductAlternative
from backorders.models.catalog import InventoryLevel, Location, Product, Variant
from backorders.models.notifications import Notification, NotificationItem, Suppression
from backorders.models.orders import Backorder, Cancellation, Event, Order, OrderLine
from backorders.models.shops import BackorderMode, Shop
from backorders.models.webhooks import CustomerDataRequest, PendingInventory, WebhookDelivery

__all__ = [
    "AlternativeOverride",
    "Backorder",
    "BackorderMode",
    "Cancellation",
    "CustomerDataRequest",
    "Event",
    "InventoryLevel",
    "Location",
    "Notification",
    "NotificationItem",
    "Order",
    "OrderLine",
    "PendingInventory",
    "Product",
    "ProductAlternative",
    "Shop",
    "Suppression",
    "Variant",
    "WebhookDelivery",
]
