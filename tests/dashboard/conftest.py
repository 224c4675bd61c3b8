from datetime import date, timedelta

import pytest
from django.utils import timezone

from backorders.models import Backorder, Notification, WebhookDelivery


@pytest.fixture(autouse=True)
def _plain_http(settings):
    settings.SECURE_SSL_REDIRECT = False
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def queue(shop, make_variant, place):
    """Five backorders of ``shop``: two overdue (one of them with only a promised date), one
    flagged, one allocated, one cancelled by the owner (to settle); a failed and an unknown
    email, one failed webhook delivery."""
    from backorders.services.audit import Actor
    from backorders.services.lifecycle import backorder_cancel
    from backorders.services.stock import stock_set_available

    mug = make_variant(stock=0, inventory_policy="continue", sku="MUG-1", product__title="Red mug")
    cap = make_variant(stock=0, inventory_policy="continue", sku="CAP-1", product__title="Blue cap")
    orders = [place({mug: 2}), place({mug: 1}), place({cap: 3}), place({cap: 1}), place({mug: 4})]
    by_order = {o.pk: Backorder.objects.get(order=o) for o in orders}
    first, second, third, fourth, fifth = (by_order[o.pk] for o in orders)
    today = timezone.localdate(timezone=shop.zoneinfo)
    Backorder.objects.filter(pk=first.pk).update(eta=today - timedelta(days=3))
    Backorder.objects.filter(pk=second.pk).update(eta=None, promised_eta=today - timedelta(days=1))
    Backorder.objects.filter(pk=third.pk).update(flagged=True, flag_reason="The product was deleted.")
    Backorder.objects.filter(pk=fourth.pk).update(eta=today + timedelta(days=5))
    backorder_cancel(backorder=fifth, actor=Actor.admin("owner"), reason="Changed their mind")
    # available = on hand − committed: −1 covers 3 of the 4 waiting units (the third, in full)
    stock_set_available(variant=cap, available=-1, actor=Actor.system("test"))
    for status in ("failed", "unknown"):
        Notification.objects.create(
            shop=shop,
            kind="confirmation",
            recipient=f"{status}@example.com",
            dedupe_key=status,
            due_at=timezone.now(),
            status=status,
        )
    WebhookDelivery.objects.create(shop=shop, topic="orders/create", webhook_id="w-1", status="failed")
    return {
        "overdue": {first.pk, second.pk},
        "flagged": third.pk,
        "ahead": fourth.pk,
        "cancelled": fifth.pk,
        "mug": mug,
        "cap": cap,
        "today": today,
    }


def shop_today(shop) -> date:
    return timezone.localdate(timezone=shop.zoneinfo)
