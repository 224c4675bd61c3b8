"""The app's admin: owners see their catalog, orders and backorders, and edit backorder policy.

Everything the platform or a service owns (catalog data, stock, counters, orders, backorders and
their events) is read-only here; only the owner's policy fields and the shop's settings are edited
as plain fields. Changes with consequences (cancelling, fulfilling, restocking) will be admin
actions that call the services, never direct writes.

Tenancy: a superuser sees every shop; anyone else only the shops they are a member of, and
changes only those where they are owner or staff (``base``: every admin here is scoped).
"""

from backorders.admin import (  # noqa: F401  (registers the ModelAdmins)
    alerts,
    cancellations,
    catalog,
    notifications,
    orders,
    shops,
    suppliers,
    tenancy,
    tokens,
    webhooks,
)
