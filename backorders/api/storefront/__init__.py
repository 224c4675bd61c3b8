"""The public storefront API: what a product page asks before a customer buys.

Anonymous and read-only except the quote (a read that needs a body) and the restock-alert
sign-up. Ids in URLs and bodies are the platform's (``Product.platform_id``,
``Variant.platform_id``); a product may also be named by its handle. The App Proxy
(``platforms.shopify.app_proxy``) answers the same resources with the same views.
"""
