"""The Shopify-style platform adapter (contract: ../shared/SHOPIFY.md).

* ``verification``: webhook signatures and the count of refused requests;
* ``views``: the webhook endpoint (verify, record, enqueue, answer);
* ``payloads``: pure functions from the platform's JSON to the services' plain values;
* ``handlers``: one function per topic, calling existing services.
"""
