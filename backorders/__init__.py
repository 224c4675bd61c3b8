"""django-backorders: the whole backorder life cycle for Shopify-style stores."""

__version__ = "0.1.0"
