"""The customer's self-service pages in a real Chromium: every form works, the key in the URL
never leaves in a Referer to another site, and nothing from a payload runs as script."""

from datetime import date, timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from backorders.csp import HEADER
from backorders.models import Backorder, Notification, Suppression
from backorders.services.audit import Actor
from backorders.services.lifecycle import Tracking, backorder_fulfill
from backorders.services.notifications import links
from tests.browser.conftest import link_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RESTOCK = date(2027, 3, 1)


@pytest.fixture
def mug(make_variant):
    return make_variant(stock=0, inventory_policy="continue", restock_date=RESTOCK, product__title="Blue Mug")


def test_a_customer_opens_the_link_in_their_email_and_cancels_a_waiting_item(page, site, mug, place):
    order = place({mug: 2}, accepted=True)  # committed: the confirmation email is sent at once
    [confirmation] = mail.outbox
    link = link_in(confirmation.body, site.url)
    assert link.startswith(f"{site.url}/backorders/order/")

    response = page.goto(link)
    assert response.status == 200
    assert response.headers["referrer-policy"] == "same-origin"
    assert "script-src" not in response.headers[HEADER.lower()]  # no script at all on these pages
    assert page.get_by_role("heading", level=1).inner_text() == f"Your order {order.number}"
    assert page.locator(".status").inner_text() == "Waiting for stock"
    # The stylesheet loaded from our static files (the policy forbids inline styles).
    assert page.locator("body").evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(245, 245, 244)"
    screenshot(page, "selfservice-order")

    page.get_by_role("link", name="Cancel this item").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Cancel this item?"
    assert "2 × Blue Mug" in page.inner_text("main")
    screenshot(page, "selfservice-confirm-cancel")

    with page.expect_request(lambda r: r.method == "POST") as posted:
        page.get_by_role("button", name="Yes, cancel this item").click()
    page.wait_for_url("**?notice=cancelled")
    # Chromium sent a real Origin (not "null"), which is what Django's CSRF check compares.
    assert posted.value.header_value("origin") == site.url

    assert "The item was cancelled. We have emailed you a confirmation." in page.inner_text("[role=status]")
    assert page.locator(".status").inner_text() == "Cancelled"
    assert page.get_by_role("link", name="Cancel this item").count() == 0
    screenshot(page, "selfservice-cancelled")

    backorder = Backorder.objects.get(order=order)
    assert backorder.status == Backorder.Status.CANCELLED
    assert Notification.objects.filter(kind="cancelled", recipient=order.email).count() == 1
    subjects = {m.to[0]: m.subject for m in mail.outbox[-2:]}
    assert subjects == {
        order.email: f"Acme: items of your order {order.number} were cancelled",
        order.shop.owner_email: f"Acme: order {order.number} has cancelled items to refund",  # to settle it
    }
    assert page.problems == []


def test_yes_clicked_in_a_second_tab_after_the_first_cancels_nothing_twice(page, site, mug, place):
    order = place({mug: 1}, accepted=True)
    confirm = f"/backorders/order/{links.order_token(order)}/cancel/{order.backorders.get().pk}/"
    page.goto(confirm)
    other_tab = page.context.new_page()
    other_tab.goto(confirm)
    page.get_by_role("button", name="Yes, cancel this item").click()
    page.wait_for_url("**?notice=cancelled")
    other_tab.get_by_role("button", name="Yes, cancel this item").click()
    other_tab.wait_for_url("**?notice=already")
    assert "This item was already cancelled." in other_tab.inner_text("[role=status]")
    assert Notification.objects.filter(kind="cancelled").count() == 1
    page.go_back()  # the confirmation page is not cached: it is asked again, and says so
    page.wait_for_url("**?notice=already")
    assert page.problems == []


@pytest.mark.parametrize(
    ("policy", "origin", "outcome"),
    [
        ("no-referrer", "null", 403),  # what the pages sent before: every form was refused
        ("same-origin", None, 302),  # what they send now (None: the site's own origin)
        ("strict-origin-when-cross-origin", None, 302),  # browsers' default; tells other sites our origin
    ],
)
def test_what_chromium_sends_with_each_referrer_policy(page, site, mug, place, policy, origin, outcome):
    """Why ``same-origin``: the confirmation page is served with ``policy`` instead of ours,
    and the form's POST shows the Origin Chromium sends and how Django's CSRF check answers."""
    order = place({mug: 1}, accepted=True)
    confirm = f"/backorders/order/{links.order_token(order)}/cancel/{order.backorders.get().pk}/"

    def serve_with_policy(route):
        if route.request.method != "GET":
            route.continue_()
            return
        response = route.fetch()
        route.fulfill(response=response, headers={**response.headers, "referrer-policy": policy})

    page.route(f"**{confirm}", serve_with_policy)
    page.goto(confirm)
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Yes, cancel this item").click()
    page.wait_for_load_state()
    assert answer.value.request.header_value("origin") == (origin or site.url)
    assert answer.value.status == outcome  # 302: cancelled, back to the order page
    cancelled = order.backorders.get().status == Backorder.Status.CANCELLED
    assert cancelled is (outcome == 302)


def test_an_expired_link_offers_a_fresh_one_which_is_emailed_and_opens_the_order(page, site, mug, place):
    order = place({mug: 1}, accepted=True)
    with time_machine.travel(timezone.now() - timedelta(days=181)):
        expired = links.order_url_for(
            shop_id=order.shop_id, order_id=order.pk
        )  # signed 181 days ago: past SELF_SERVICE_LINK_MAX_AGE
    mail.outbox.clear()

    response = page.goto(expired)
    assert response.status == 410
    assert response.headers["referrer-policy"] == "same-origin" and HEADER.lower() in response.headers
    assert page.get_by_role("heading", level=1).inner_text() == "This link has expired"
    assert order.number not in page.content()
    screenshot(page, "selfservice-expired")

    page.get_by_role("button", name="Email me a fresh link").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Check your inbox"
    screenshot(page, "selfservice-link-sent")

    assert Notification.objects.filter(kind="link", recipient=order.email, order=order).count() == 1
    [message] = mail.outbox
    assert message.to == [order.email]
    assert message.subject == f"Acme: your link to order {order.number}"
    page.goto(link_in(message.body, site.url))
    assert page.get_by_role("heading", level=1).inner_text() == f"Your order {order.number}"
    assert page.problems == []


def test_a_customer_unsubscribes_with_the_button_on_the_unsubscribe_page(page, site, shop):
    page.goto(links.unsubscribe_url(shop, "Ada@Example.com"))
    assert page.get_by_role("heading", level=1).inner_text() == "Unsubscribe from follow-up emails?"
    assert not Suppression.objects.exists()  # opening the page unsubscribes nobody
    screenshot(page, "selfservice-unsubscribe")

    page.get_by_role("button", name="Unsubscribe").click()
    assert page.get_by_role("heading", level=1).inner_text() == "You are unsubscribed"
    screenshot(page, "selfservice-unsubscribed")
    suppression = Suppression.objects.get()
    assert suppression.shop == shop
    assert (suppression.email, suppression.reason) == ("ada@example.com", "unsubscribed")
    assert page.problems == []


def test_no_referer_carries_the_customers_key_to_another_site(page, site, mug, place):
    order = place({mug: 1}, accepted=True)
    backorder = order.backorders.get()
    backorder_fulfill(
        backorder=backorder,
        actor=Actor.platform("fulfillments/create"),
        tracking=Tracking(company="UPS", number="1Z999", url="https://carrier.example/track?n=1Z999"),
    )
    seen = []

    def carrier(route):
        seen.append(route.request.headers)
        route.fulfill(status=200, content_type="text/html", body="<p>Parcel on its way</p>")

    page.context.route("https://carrier.example/**", carrier)  # no request leaves this machine
    page.goto(links.order_url_for(shop_id=order.shop_id, order_id=order.pk))
    page.get_by_role("link", name="1Z999").click()
    page.wait_for_url("https://carrier.example/track?n=1Z999")
    # A link without rel="noreferrer" (one a future template might add) still sends nothing:
    # the page's Referrer-Policy stops it.
    page.goto(links.order_url_for(shop_id=order.shop_id, order_id=order.pk))
    page.evaluate(
        """() => { const a = document.createElement('a'); a.href = 'https://carrier.example/other';
                   document.body.appendChild(a); a.click(); }"""
    )
    page.wait_for_url("https://carrier.example/other")
    assert len(seen) == 2
    assert all("referer" not in headers for headers in seen), seen
    assert page.problems == []


def test_hostile_values_from_a_payload_show_as_text_and_run_nothing(page, site, make_variant, place, shop):
    hostile = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
    shop.name = f"Shop {hostile}"
    shop.save(update_fields=["name"])
    variant = make_variant(
        inventory_policy="continue", restock_date=RESTOCK, product__title=f"Mug {hostile}", sku=hostile
    )
    order = place({variant: 1}, accepted=True)
    backorder = order.backorders.get()
    backorder_fulfill(backorder=backorder, actor=Actor.platform("fulfillments/create"))
    # Whatever the storage side lets through, the page must stay inert: store it directly.
    Backorder.objects.filter(pk=backorder.pk).update(
        tracking_company=hostile, tracking_number=hostile, tracking_url="javascript:alert(document.domain)"
    )

    page.goto(links.order_url_for(shop_id=order.shop_id, order_id=order.pk))
    text = page.inner_text("main")
    assert f"Mug {hostile}" in text and f"Shop {hostile}" in text  # shown, as text
    assert page.locator("main script, main img, main [onerror]").count() == 0
    assert page.locator("a[href^='javascript' i]").count() == 0
    tracking = page.locator("section", has_text="Shipped.")
    assert tracking.locator("a").count() == 0  # the tracking number is plain text, not a link
    screenshot(page, "selfservice-hostile")
    assert page.problems == []  # no alert, no script error, nothing the policy had to block


def test_the_policy_stops_a_script_that_reached_the_page_anyway(page, site, mug, place):
    """The second wall: if a template ever emitted markup from a payload, the browser still runs
    none of it (simulated by injecting it into the served HTML, the response headers kept)."""
    order = place({mug: 1}, accepted=True)

    def inject(route):
        response = route.fetch()
        body = response.text().replace(
            "</main>",
            "<script>alert('inline')</script><img src=x onerror=\"alert('handler')\">"
            "<a id=js href=\"javascript:alert('href')\">x</a></main>",
        )
        route.fulfill(response=response, body=body)

    def refused(message):
        return "Content Security Policy" in message.text

    page.route("**/backorders/order/**", inject)
    with page.expect_console_message(refused):  # the inline script is refused while parsing
        page.goto(links.order_url_for(shop_id=order.shop_id, order_id=order.pk))
    with page.expect_console_message(refused):  # and so is the javascript: link
        page.click("#js")
    assert [p for p in page.problems if not p.startswith("CSP")] == []  # no alert ran, no error
    blocked = " ".join(page.problems)
    assert "inline script" in blocked or "script-src" in blocked, page.problems
