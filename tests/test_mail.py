"""Every email template fed by a payload or an owner, with hostile values: the HTML part shows
them as text and links only to http(s) URLs; the text part and the subject show them as they are.

Values are stored as they come (what the storage side lets through is not this test's concern):
the templates must be safe whatever a row holds.
"""

from datetime import date, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from backorders.models import Notification, Order
from backorders.services.audit import Actor
from backorders.services.lifecycle import Tracking, backorder_cancel, order_fulfill
from backorders.services.notifications.outbox import notification_render
from backorders.templatetags.backorders_links import http_url
from tests.hostile import ATTRIBUTE, GOOD_URL, HOSTILE, MARKUP, QUOTES, SCRIPT_URLS, inert_html, sane_text

ETA = date(2027, 3, 2)


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def hostile_shop(shop):
    shop.name = f"Acme {HOSTILE}"
    shop.apology_incentive = f"Code {HOSTILE}"
    shop.cancellation_payment_texts = {"en": f"Refund {HOSTILE}"}
    shop.save()
    return shop


def item(**extra):
    return {
        "id": 1,
        "title": f"Mug {HOSTILE}",
        "sku": f"SKU {HOSTILE}",
        "quantity": 2,
        "eta": ETA.isoformat(),
        "eta_source": "manual",
        "reason": f"Reason {HOSTILE}",
        **extra,
    }


def context_of(kind: str, shop) -> dict:
    base = {"order_number": f"#1001 {HOSTILE}", "customer_name": f"Ada {HOSTILE}", "items": [item()]}
    if kind == Notification.Kind.ETA_CHANGED:
        base["items"] = [
            item(old_eta=(ETA - timedelta(days=9)).isoformat(), direction="delayed", apology=True)
        ]
        base |= {"direction": "delayed", "incentive": shop.apology_incentive}
    elif kind == Notification.Kind.SHIPPED:
        base["items"] = [
            item(tracking_company=f"UPS {HOSTILE}", tracking_number=f"1Z {HOSTILE}", tracking_url=url)
            for url in [*SCRIPT_URLS, GOOD_URL]
        ]
    elif kind == Notification.Kind.CANCELLED:
        base |= {"actor": "owner", "payment_text": shop.payment_text("en")}
    elif kind == Notification.Kind.OWNER_CANCELLED:
        base |= {"actor": "customer", "customer_email": "ada@example.com"}
        base["items"] = [item(reason=f"Reason {HOSTILE}", amount="48.00", currency="EUR")]
    elif kind == Notification.Kind.DIGEST:
        line = {"order": f"#1001 {HOSTILE}", "title": f"Mug {HOSTILE}", "quantity": 2, "eta": None}
        base = {
            "date": ETA.isoformat(),
            "counts": {"new": 1, "overdue": 1, "flagged": 1, "failed_emails": 1, "failed_webhooks": 1},
            "new": [{**line, "reason": ""}],
            "overdue": [{**line, "eta": ETA.isoformat(), "reason": ""}],
            "flagged": [{**line, "reason": f"Reason {HOSTILE}"}],
            "failed_emails": [
                {"kind": f"Shipped {HOSTILE}", "recipient": f"x{HOSTILE}@example.com", "status": "x"}
            ],
            "items": [],
        }
    return base


def rendered(kind: str, shop):
    order = Order.objects.create(
        shop=shop, platform_id=1, number="#1001", email="ada@example.com", placed_at=timezone.now()
    )
    notification = Notification(
        shop=shop,
        kind=kind,
        recipient="owner@example.com"
        if kind in (Notification.Kind.DIGEST, *Notification.Kind.to_owner())
        else order.email,
        order=None if kind == Notification.Kind.DIGEST else order,
        language="en",
        context=context_of(kind, shop),
        due_at=timezone.now(),
    )
    return notification_render(notification)


@pytest.mark.parametrize("kind", Notification.Kind.values)
def test_every_email_shows_hostile_values_as_text_in_html_and_as_they_are_in_text(kind, hostile_shop):
    message = rendered(kind, hostile_shop)
    hrefs, visible = inert_html(message.html)
    # Shown (the customer can read their order number and the item's title), but as text.
    assert f"Acme {HOSTILE}" in visible
    assert MARKUP not in message.html and ATTRIBUTE not in message.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in message.html
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in message.html
    assert all(href.startswith(("https://", "http://")) for href in hrefs), hrefs
    # The text part and the subject are plain text: the values as they are, no entities.
    assert f"Acme {HOSTILE}" in message.text
    sane_text(message.text)
    assert HOSTILE in message.subject and "&lt;" not in message.subject
    assert "\n" not in message.subject


@pytest.mark.parametrize(
    ("kind", "values"),
    [
        ("confirmation", ["#1001 ", "Ada ", "Mug ", "SKU "]),
        ("eta_changed", ["#1001 ", "Ada ", "Mug ", "Code "]),
        ("ready", ["#1001 ", "Mug ", "SKU "]),
        ("shipped", ["#1001 ", "Mug ", "SKU ", "UPS ", "1Z "]),
        ("followup", ["#1001 ", "Mug "]),
        ("cancelled", ["#1001 ", "Mug ", "Reason ", "Refund "]),
        ("link", ["#1001 ", "Ada "]),
        ("digest", ["#1001 ", "Mug ", "Reason ", "Shipped ", "x"]),
        ("owner_cancelled", ["#1001 ", "Mug ", "SKU ", "Reason "]),
    ],
)
def test_each_payload_field_of_each_email_reaches_the_reader_intact(kind, values, hostile_shop):
    message = rendered(kind, hostile_shop)
    _hrefs, visible = inert_html(message.html)
    for prefix in values:
        assert f"{prefix}{HOSTILE}" in visible, prefix  # decoded by the parser: exactly the value
        assert f"{prefix}{HOSTILE}" in message.text, prefix


def test_the_shipped_email_links_only_http_tracking_urls(hostile_shop):
    message = rendered("shipped", hostile_shop)
    hrefs, _ = inert_html(message.html)
    assert hrefs.count(GOOD_URL) == 1  # the real one, escaped in the attribute and decoded back
    assert 'track?n=1Z&amp;lang=&quot;en&quot;"' in message.html
    for url in SCRIPT_URLS:
        assert url not in hrefs
        assert url.strip() not in message.text
    assert "javascript" not in message.html.lower() and "data:text" not in message.html
    assert message.text.count("Track your parcel:") == 1
    assert f"Track your parcel: {GOOD_URL}" in message.text


def test_emails_sent_through_the_services_carry_hostile_names_inertly(make_variant, place, commit):
    variant = make_variant(
        inventory_policy="continue",
        restock_date=date(2027, 3, 1),
        product__title=f"Mug {HOSTILE}",
        sku=QUOTES,
    )
    with commit():
        order = place({variant: 1}, accepted=True, customer_name=f"Ada {HOSTILE}")
    with commit():
        order_fulfill(
            order=Order.objects.get(pk=order.pk),
            actor=Actor.platform("fulfillments/create"),
            tracking=Tracking(company=f"UPS {HOSTILE}", number=f"1Z {HOSTILE}", url=GOOD_URL),
        )
    confirmation, shipped = mail.outbox
    for message in (confirmation, shipped):
        [(html, _)] = message.alternatives
        hrefs, visible = inert_html(html)
        assert f"Ada {HOSTILE}" in visible and f"Mug {HOSTILE}" in visible and QUOTES in visible
        assert f"Ada {HOSTILE}" in message.body
        sane_text(message.body)
    [(shipped_html, _)] = shipped.alternatives
    assert GOOD_URL in inert_html(shipped_html)[0]
    assert f"UPS {HOSTILE}" in shipped.body


def test_a_cancel_reason_from_a_person_is_text_in_the_cancellation_email(make_variant, place, commit):
    variant = make_variant(inventory_policy="continue", restock_date=date(2027, 3, 1))
    with commit():
        order = place({variant: 1}, accepted=True)
    with commit():
        backorder_cancel(backorder=order.backorders.get(), actor=Actor.admin("owner"), reason=HOSTILE)
    message = mail.outbox[-1]
    [(html, _)] = message.alternatives
    _, visible = inert_html(html)
    assert HOSTILE in visible and HOSTILE in message.body
    sane_text(message.body)


@pytest.mark.parametrize("url", SCRIPT_URLS + ["", "https://", "http://[::1", "ftp://x.example/f", 42, None])
def test_http_url_refuses_anything_but_an_absolute_http_url(url):
    assert http_url(url) == ""


@pytest.mark.parametrize(
    "url", ["https://carrier.example/t?n=1", "HTTP://Carrier.Example/x", "https://例え.jp/追跡", GOOD_URL]
)
def test_http_url_keeps_http_and_https_urls_unchanged(url):
    assert http_url(url) == url


def test_http_url_refuses_a_url_longer_than_any_carrier_sends():
    assert http_url("https://carrier.example/" + "a" * 2048) == ""
