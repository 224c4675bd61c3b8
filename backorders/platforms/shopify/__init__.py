"""The Shopify-style platform adapter (contract: ../shared/SHOPIFY.md).

* ``verification``: webhook signatures;
* ``views``: the webhook endpoint (verify, record, enqueue, answer; refusals counted by the core);
* ``payloads``: pure functions from the platform's JSON to the services' plain values;
* ``handlers``: one function per topic, calling services and selectors;
* ``redaction``: the platform's personal-data keys and id fields, for a privacy erasure.

``register`` (called by the app's ``ready()``) tells the core's registry about all of it.
"""

PLATFORM = "shopify"


def register() -> None:
    """Register the platform with the core (``services.webhooks.registry``): its topics and
    handlers, its privacy topics, and its part of a privacy erasure. Safe to call twice."""
    from backorders.platforms.shopify.handlers import HANDLERS, PRIVACY_TOPICS, delivery_handle
    from backorders.platforms.shopify.redaction import body_mentions, body_redact
    from backorders.services.webhooks.registry import Platform, platform_register

    platform_register(
        platform=Platform(
            name=PLATFORM,
            handlers=dict.fromkeys(HANDLERS, delivery_handle),
            privacy_topics=PRIVACY_TOPICS,
            body_mentions=body_mentions,
            body_redact=body_redact,
        )
    )
