"""Refused webhook requests: recorded by the core, read by a selector, never a row."""

from unittest import mock

import pytest

from backorders.selectors.webhooks import REJECTION_REASONS, webhook_rejection_counts
from backorders.services.webhooks.rejections import webhook_rejection_record

pytestmark = pytest.mark.usefixtures("app_secrets")


def test_each_refusal_is_counted_under_its_reason_and_every_reason_is_read():
    webhook_rejection_record(reason="bad_signature", shop_domain="a.myshopify.com", topic="orders/create")
    webhook_rejection_record(reason="bad_signature")
    webhook_rejection_record(reason="too_large")

    counts = webhook_rejection_counts()
    assert set(counts) == set(REJECTION_REASONS)
    assert {reason: n for reason, n in counts.items() if n} == {"bad_signature": 2, "too_large": 1}


def test_an_unknown_reason_is_a_bug_and_is_not_counted():
    with pytest.raises(ValueError, match="Unknown webhook rejection reason 'typo'"):
        webhook_rejection_record(reason="typo")
    assert not any(webhook_rejection_counts().values())


def test_a_cache_outage_neither_fails_the_refusal_nor_the_page_that_reads_the_counts():
    with mock.patch("backorders.services.webhooks.rejections.cache.incr", side_effect=ConnectionError):
        webhook_rejection_record(reason="unknown_shop")
    with mock.patch("backorders.selectors.webhooks.cache.get_many", side_effect=ConnectionError):
        assert webhook_rejection_counts() == dict.fromkeys(REJECTION_REASONS, 0)
