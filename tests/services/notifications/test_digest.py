"""The owner's daily digest: one email per active shop with something to report."""

from datetime import timedelta

from django.core import mail
from django.utils import timezone

from backorders.models import Backorder, Notification
from backorders.services.notifications import owner_digests_plan
from tests.factories import ShopFactory


def test_the_digest_reports_new_overdue_flagged_and_failed(shop, make_backordered, place, commit):
    mugs, plates = make_backordered("Mug"), make_backordered("Plate")
    with commit():
        late = place({mugs: 1}, accepted=True)
        place({plates: 2}, accepted=True)
    Backorder.objects.filter(order=late).update(
        eta=timezone.localdate() - timedelta(days=3), flagged=True, flag_reason="Over the limit"
    )
    Notification.objects.filter(order=late).update(status="failed")
    ShopFactory(domain="quiet.myshopify.com")  # nothing to report: no digest
    ShopFactory(domain="closed.myshopify.com", is_active=False)
    mail.outbox.clear()

    with commit():
        planned = owner_digests_plan()
    assert len(planned) == 1
    [message] = mail.outbox
    assert message.to == ["owner@acme.test"]
    assert message.subject.startswith("Acme backorders, ")
    assert message.subject.endswith(": 2 new, 1 overdue, 1 flagged")
    assert "2 new backorders in the last 24 hours" in message.body
    assert "1 backorder past its ETA" in message.body
    assert "1 line needs your attention" in message.body and "Over the limit" in message.body
    assert "1 customer email failed, bounced or may not have been sent" in message.body
    assert f"{late.number}: 1 × Mug" in message.body
    assert "/admin/" in message.body

    with commit():
        assert owner_digests_plan() == []  # once a day
    assert len(mail.outbox) == 1


def test_the_digest_is_in_the_shops_language(shop, variant, place, commit):
    shop.language = "de"
    shop.save()
    with commit():
        place({variant: 1}, accepted=True)
    mail.outbox.clear()
    with commit():
        owner_digests_plan()
    [message] = mail.outbox
    assert "Rückstände" in message.subject and "1 neuer Rückstand in den letzten 24 Stunden" in message.body
