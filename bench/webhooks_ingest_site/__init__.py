"""A bench-only site for ``bench/webhooks_ingest.py``: the project plus two baseline views.

Never part of the shipped app: ``bench.webhooks_ingest_site.settings`` extends ``config.settings``
with a URLconf that adds the baselines next to the real webhook URL.
"""
