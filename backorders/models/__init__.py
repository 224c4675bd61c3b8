from backorders.models.catalog import InventoryLevel, Location, Product, Variant
from backorders.models.orders import Backorder, Event, Order, OrderLine
from backorders.models.shops import BackorderMode, Shop

__all__ = [
    "Backorder",
    "BackorderMode",
    "Event",
    "InventoryLevel",
    "Location",
    "Order",
    "OrderLine",
    "Product",
    "Shop",
    "Variant",
]
