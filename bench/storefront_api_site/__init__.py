"""A bench-only site for ``bench/storefront_api.py``: the project plus a bare DRF view.

Never part of the shipped app: ``bench.storefront_api_site.settings`` extends ``config.settings``
with a URLconf that adds the baseline next to the real storefront API.
"""
