"""Webhook deliveries: recorded once, processed at most once at a time, never lost.

The life of a delivery row (``WebhookDelivery.status``)::

    received ──claim──> processing ──> processed
       ^  ^                 │  ├─────> rejected   (the payload is invalid for its topic: never retried)
       │  └── error, retry ─┘  └─────> failed     (the last attempt failed; "process again" in the admin)
       └── sweeper: still received after WEBHOOK_SWEEP_AFTER, or processing past WEBHOOK_PROCESSING_TIMEOUT
    ignored: a topic we do not handle (stored, answered 200)

* Recording is one ``INSERT … ON CONFLICT DO NOTHING RETURNING id`` under the unique
  (shop, webhook id) constraint: a redelivery is never an error and changes nothing. On
  PostgreSQL and SQLite, finding the shop is folded into that statement (``webhook_delivery_receive``), so a
  new delivery costs one statement; a duplicate costs a second, the lookup that tells it apart
  from an unknown or inactive shop.
* Processing is enqueued after commit with ``robust=True``: a broker outage leaves the row
  ``received`` and the request still answered 200; the sweeper (beat, every minute) enqueues it
  again later. In a web process the publish itself happens off the request, in the process's
  dispatcher thread, which sends the ids that arrived within a few milliseconds as one message
  (a fan-out task then sends one processing task per delivery). Anything that dispatcher loses
  (the process dies) is still a ``received`` row: the sweeper picks it up.
* The task claims the row with one conditional UPDATE, so two workers (a retry and a sweep, a
  redelivered task) never process it at the same time. The topic's effects and the ``processed``
  mark commit in one transaction: a crash in between leaves the row to be claimed again, and every
  handler is idempotent (the services ignore stale and repeated data).
* The topic's handler is the one a platform adapter registered for it (``registry``, from the
  app's ``ready()``): the core imports no platform. A handler rejects a body invalid for its
  topic with ``DeliveryRejected``; refused requests are counted by ``rejections``.
"""

from backorders.services.webhooks.pending import (
    pending_inventory_apply,
    pending_inventory_locations_prepare,
    pending_inventory_record,
    pending_inventory_sweep,
)
from backorders.services.webhooks.processing import (
    DeliveryRetry,
    webhook_deliveries_prune,
    webhook_deliveries_sweep,
    webhook_delivery_process,
    webhook_delivery_retry,
)
from backorders.services.webhooks.receiving import (
    ShopCredentials,
    shop_credentials,
    webhook_deliveries_enqueue,
    webhook_delivery_receive,
    webhook_delivery_record,
)
from backorders.services.webhooks.registry import DeliveryRejected

__all__ = [
    "DeliveryRejected",
    "DeliveryRetry",
    "ShopCredentials",
    "pending_inventory_apply",
    "pending_inventory_locations_prepare",
    "pending_inventory_record",
    "pending_inventory_sweep",
    "shop_credentials",
    "webhook_deliveries_enqueue",
    "webhook_deliveries_prune",
    "webhook_deliveries_sweep",
    "webhook_delivery_process",
    "webhook_delivery_receive",
    "webhook_delivery_record",
    "webhook_delivery_retry",
]
