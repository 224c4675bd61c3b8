"""The app's settings: ``settings.BACKORDERS`` is a dict; this module is its only reader.

Every name the app understands is in ``DEFAULTS`` with its meaning. ``get_setting`` reads
``settings.BACKORDERS`` live, so ``override_settings`` works in tests; an unknown name is an error
(a typo would otherwise silently fall back to the default). Per-shop values (handling days,
thresholds, from address) live on the Shop row and use these as their defaults.
"""

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # Days from stock arrival to shipping, when neither variant nor product nor shop says otherwise.
    "DEFAULT_HANDLING_DAYS": 1,
    # Days a restock takes when no manual ETA is set; None = unknown (no estimate shown).
    "DEFAULT_RESTOCK_LEAD_DAYS": None,
    # A variant with this many units or fewer available shows "only N left".
    "DEFAULT_LOW_STOCK_THRESHOLD": 3,
    # How many times a transaction that hit a deadlock or serialization failure is retried.
    "TRANSACTION_RETRIES": 5,
    # Domain suffix a shop's platform domain must end with; "" accepts any valid host name.
    "SHOP_DOMAIN_SUFFIX": "",
    # --- Supply: suppliers, purchase orders, ETAs (services.purchasing, selectors.supply) ---
    # How sure a lead-time estimate should be (0.5 to 0.99): the supplier's lead time is padded
    # by its measured lateness (mean + z × spread of the days late of its recent receipts) at
    # this confidence, so that about this share of estimates hold.
    "ETA_CONFIDENCE": 0.8,
    # How many of a supplier's latest receipts measure its lateness and on-time rate.
    "SUPPLIER_RELIABILITY_RECEIPTS": 10,
    # Most variants one ETA recomputation task handles (one transaction, constant statements);
    # a larger change is split into several tasks.
    "ETA_REFRESH_BATCH": 500,
    # --- Customer emails (services.notifications) ---
    # Absolute base URL of links in emails (self-service page, unsubscribe); "" = settings.SITE_URL.
    "SITE_URL": "",
    # Seconds a self-service link stays valid (scoped to one order); expired links offer a fresh one.
    "SELF_SERVICE_LINK_MAX_AGE": 180 * 24 * 60 * 60,
    # Customers are emailed when their ETA moves by more than this many days (Shop may override).
    "ETA_CHANGE_THRESHOLD_DAYS": 2,
    # A delay of more than this many days past the promised ETA adds the shop's apology incentive.
    "APOLOGY_THRESHOLD_DAYS": 14,
    # Days after shipping to send the follow-up email; 0 = none (Shop may override).
    "FOLLOWUP_DAYS": 0,
    # Seconds a backorder confirmation waits before it is sent (then planned again with the facts
    # of that moment): stock processed just after the order must not make it untrue. The periodic
    # sweeper sends it once due, so it leaves between this and this + one sweep interval.
    "CONFIRMATION_GRACE_SECONDS": 60,
    # Seconds an email may stay "sending" before it is marked "unknown" for the owner to decide
    # (longer than the task's hard time limit, so that a live send is never declared lost).
    "EMAIL_SENDING_TIMEOUT": 15 * 60,
    # Seconds a pending email waits for its task before the periodic sweeper enqueues it again.
    "EMAIL_SWEEP_AFTER": 60,
    # Most pending emails the sweeper enqueues per run.
    "EMAIL_SWEEP_BATCH": 1000,
    # Attempts (provider unreachable, 429, 5xx) before an email is marked failed.
    "EMAIL_MAX_ATTEMPTS": 8,
    # Most emails one send task sends in turn (a transaction's rows, the sweeper's backlog).
    "EMAIL_SEND_BATCH": 50,
    # --- Restock alerts, "notify me" (services.alerts) ---
    # Days an unconfirmed sign-up (double opt-in) waits for its confirmation before it expires;
    # the confirmation link stops working at the same time.
    "ALERT_CONFIRM_EXPIRY_DAYS": 7,
    # Seconds before signing up again for the same item re-sends the confirmation email (at
    # most one per this interval, however often the form is posted).
    "ALERT_CONFIRM_RESEND_SECONDS": 10 * 60,
    # Alerts per orderable unit in one wave (1: as many alerts as units; 2: twice as many,
    # for shops where many alerted customers do not buy). Fractions allowed; rounded down.
    "ALERT_RATIO": 1,
    # Seconds between two waves of one variant: a later wave goes out only if units remain.
    "ALERT_WAVE_INTERVAL_SECONDS": 60 * 60,
    # Most alerts one wave plans (a bound on one transaction, whatever the stock says).
    "ALERT_WAVE_MAX": 5000,
    # Sign-ups one address may make per shop and hour (counted in the database, so the limit
    # holds across processes); more are answered 429.
    "ALERT_SIGNUPS_PER_EMAIL_PER_HOUR": 5,
    # Sign-up requests per client IP (DRF's rate syntax, "20/hour"; None: no limit), counted in
    # Django's cache (a shared cache such as Redis when there are several web processes).
    "ALERT_SIGNUPS_PER_IP": "20/hour",
    # Days after an alert in which an order of that item from that address counts as bought
    # (the owner's funnel: signed up, confirmed, alerted, bought).
    "ALERT_PURCHASE_WINDOW_DAYS": 14,
    # --- Platform webhooks (platforms.shopify, services.webhooks) ---
    # Largest webhook body accepted, in bytes; a larger one is answered 413 before it is read.
    "WEBHOOK_MAX_BODY_BYTES": 1024 * 1024,
    # Processing attempts of one delivery (errors retried with exponential backoff) before it is
    # marked failed; a payload that is invalid for its topic is rejected at once, never retried.
    "WEBHOOK_MAX_ATTEMPTS": 5,
    # Seconds a delivery may wait for its task before the periodic sweeper enqueues it again.
    "WEBHOOK_SWEEP_AFTER": 60,
    # Seconds a delivery may stay "processing" before it counts as abandoned (a worker died):
    # longer than the task's hard time limit, so that a live run is never processed twice.
    "WEBHOOK_PROCESSING_TIMEOUT": 10 * 60,
    # Most deliveries the sweeper enqueues per run.
    "WEBHOOK_SWEEP_BATCH": 1000,
    # Days processed and ignored deliveries are kept (the de-duplication window: the platform
    # retries for hours and may deliver a day late). Inventory facts for unknown items are
    # dropped after the same time.
    "WEBHOOK_RETENTION_DAYS": 30,
    # Days failed and rejected deliveries are kept for the owner to read (and process again),
    # after which the daily prune deletes them with their raw bodies: a body holds customers'
    # personal data, and a delivery left unprocessed that long is never going to be processed.
    "WEBHOOK_FAILED_RETENTION_DAYS": 90,
    # --- The storefront API and the App Proxy (backorders.api, platforms.shopify.app_proxy) ---
    # Seconds browsers and shared caches may keep a storefront GET answer (Cache-Control: public,
    # max-age). Short: a badge may show a stock level this old; the ETag makes a revalidation cheap.
    "STOREFRONT_CACHE_SECONDS": 30,
    # Requests one client IP may make to the storefront API, as DRF writes a rate ("600/minute");
    # counted on Django's default cache (shared by every process when that cache is Redis).
    # None = no limit.
    "STOREFRONT_RATE": "600/minute",
    # Requests one API token may make to the management API, as DRF writes a rate; None = no limit.
    "MANAGEMENT_API_RATE": "1200/minute",
    # Seconds a browser may keep a CORS preflight answer (Access-Control-Max-Age).
    "STOREFRONT_CORS_MAX_AGE": 600,
    # Seconds the App Proxy's answers may be kept by the shopper's browser only (private): they
    # pass through the platform, which must not cache one shop's answer for another request.
    "APP_PROXY_CACHE_SECONDS": 10,
    # Seconds an App Proxy request's signed timestamp may be away from now (either way).
    "APP_PROXY_MAX_SKEW_SECONDS": 90,
    # --- Alternatives (services.alternatives, selectors.alternatives) ---
    # Ranked alternatives kept per product: more than a page shows, so that the read-time
    # "in stock now" filter still leaves enough.
    "ALTERNATIVES_KEPT": 20,
    # Candidates taken from each block (a product type or a tag) on either side of the product
    # in price order: the cap that keeps the work linear in the catalog, never products squared.
    "ALTERNATIVES_BLOCK_WINDOW": 20,
}


class UnknownSetting(KeyError):
    """A name that is not in DEFAULTS was asked for."""


def get_setting(name: str) -> Any:
    """Return ``settings.BACKORDERS[name]`` if set, else its documented default."""
    if name not in DEFAULTS:
        raise UnknownSetting(
            f"BACKORDERS has no setting named {name!r}; known: {', '.join(sorted(DEFAULTS))}."
        )
    return getattr(settings, "BACKORDERS", {}).get(name, DEFAULTS[name])
