"""The app's admin: owners see their catalog, orders and backorders, and edit backorder policy.

Everything the platform or a service owns (catalog data, stock, counters, orders, backorders and
their events) is read-only here; only the owner's policy fields and the shop's settings are edited
as plain fields. Changes with consequences (cancelling, fulfilling, restocking) will be admin
actions that call the services, never direct writes.

Tenancy: until per-shop staff scoping lands, these pages are for superusers only, so that a staff
account can never see another shop's rows.
"""

from backorders.admin import (  # noqa: F401  (registers the ModelAdmins)
    alerts,
    cancellations,
    catalog,
    notifications,
    orders,
    shops,
    suppliers,
    tokens,
    webhooks,
)
