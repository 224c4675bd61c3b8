"""The platform's mandatory privacy requests: a customer's data export, the erasure of a
customer's personal data, and the erasure of a whole shop.

What we hold about a customer: their orders (email, name, locale), the backorders and events of
those orders (a customer who cancelled through their link is the actor of that event), the emails
we planned or sent them (recipient, content, provider replies), suppressions of their address,
earlier data exports, and the raw webhook bodies that mention them (addresses, phone, notes).

* ``finding``: which stored webhook bodies are about the customer (the platform that sent a body
  says which of its ids name them, ``services.webhooks.registry``);
* ``requests``: a data request answered with the export (``selectors.privacy``);
* ``redaction``: a customer's erasure, stored bodies scrubbed (the platform names its personal keys);
* ``shop``: a whole shop's erasure.
"""

from backorders.services.privacy.finding import customer_deliveries_about
from backorders.services.privacy.redaction import (
    REDACTED,
    REDACTED_BODY,
    customer_redact,
    payload_scrub,
    text_scrub,
)
from backorders.services.privacy.requests import customer_data_request_record
from backorders.services.privacy.shop import ShopRedactRefused, shop_redact

__all__ = [
    "REDACTED",
    "REDACTED_BODY",
    "ShopRedactRefused",
    "customer_data_request_record",
    "customer_deliveries_about",
    "customer_redact",
    "payload_scrub",
    "shop_redact",
    "text_scrub",
]
