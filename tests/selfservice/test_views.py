"""The self-service page: signed links, queue position, ETA history, cancelling once, unsubscribe."""

import re
import threading
from datetime import date, timedelta

import pytest
import time_machine
from django.core import mail, signing
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from backorders.models import Backorder, Event, Notification, Suppression
from backorders.services.audit import Actor
from backorders.services.catalog import variant_set_policy
from backorders.services.notifications import links
from backorders.services.stock import stock_set_available
from tests.conftest import HttpsClient, fresh

OWNER = Actor.admin("owner")


def page_url(order) -> str:
    return reverse("backorders:selfservice_order", args=[links.order_token(order)])


def cancel_url(order, backorder) -> str:
    return reverse("backorders:selfservice_cancel", args=[links.order_token(order), backorder.pk])


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


@pytest.fixture
def csrf_browser():
    """A browser that gets its CSRF token from the page it submits, as a real one does."""
    return HttpsClient(enforce_csrf_checks=True)


def submit(client, url):
    """GET the confirmation page, then POST its form with the CSRF token it set."""
    page = client.get(url)
    assert page.status_code == 200
    token = client.cookies["csrftoken"].value
    return client.post(url, {"csrfmiddlewaretoken": token}, HTTP_REFERER=f"https://testserver{url}")


def test_the_page_shows_each_item_with_status_quantity_queue_position_eta_and_history(
    make_backordered, place, commit, browser, django_assert_max_num_queries
):
    mugs, plates = make_backordered("Mug"), make_backordered("Plate")
    with commit():
        place({mugs: 1}, accepted=True)
        place({mugs: 2}, accepted=True)
        order = place({mugs: 3, plates: 1}, accepted=True)
    with commit():
        variant_set_policy(variant=fresh(mugs), restock_date=date(2027, 3, 9), actor=OWNER)
    with django_assert_max_num_queries(3):
        response = browser.get(page_url(order))
    assert response.status_code == 200
    assert response["Referrer-Policy"] == "same-origin"  # no Referer leaves for another site
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    content = text(response)
    assert f"Your order {order.number}" in content
    assert "3 × Mug" in content and "1 × Plate" in content
    assert "Waiting for stock" in content
    assert "2 customers ahead of you" in content  # two earlier orders wait for mugs
    assert "You are next in line." in content  # nobody waits for plates before this order
    assert "expected to ship by March 10, 2027" in content
    assert "March 2, 2027 → March 10, 2027" in content  # the ETA history
    assert content.count("Cancel this item") == 2


def test_queue_position_counts_only_waiting_customers_earlier_in_the_queue(variant, place, commit, browser):
    with commit():
        first = place({variant: 1}, accepted=True)
        second = place({variant: 1}, accepted=True)
        third = place({variant: 1}, accepted=True)
    assert "You are next in line." in text(browser.get(page_url(first)))
    assert "1 customer ahead of you" in text(browser.get(page_url(second)))
    with commit():
        stock_set_available(variant=variant, available=-2, actor=OWNER)  # one unit: the first is served
    assert "Allocated, ready to ship" in text(browser.get(page_url(first)))
    assert "You are next in line." in text(browser.get(page_url(second)))
    assert "1 customer ahead of you" in text(browser.get(page_url(third)))


def test_a_tampered_link_shows_a_clear_page_and_no_order_data(variant, place, browser):
    order = place({variant: 1}, accepted=True)
    token = links.order_token(order)
    tampered = token[:-3] + ("AAA" if token[-3:] != "AAA" else "BBB")
    response = browser.get(reverse("backorders:selfservice_order", args=[tampered]))
    assert response.status_code == 404
    assert "This link does not work" in text(response)
    assert order.number not in text(response) and order.email not in text(response)


def test_a_link_signed_for_another_purpose_or_naming_another_order_is_refused(shop, variant, place, browser):
    order = place({variant: 1}, accepted=True)
    other = place({variant: 1}, accepted=True)
    unsubscribe = links.unsubscribe_token(shop, order.email)  # authentic, but not an order link
    response = browser.get(reverse("backorders:selfservice_order", args=[unsubscribe]))
    assert response.status_code == 404
    forged = signing.dumps([shop.pk, other.pk], salt="another salt", compress=True)
    assert browser.get(reverse("backorders:selfservice_order", args=[forged])).status_code == 404
    # A valid link for one order cannot reach a line of another order.
    assert browser.get(cancel_url(order, other.backorders.get())).status_code == 404
    assert browser.post(cancel_url(order, other.backorders.get())).status_code == 404
    assert other.backorders.get().status == Backorder.Status.WAITING


def test_an_expired_link_offers_a_fresh_one_sent_to_the_orders_own_address(variant, place, commit, browser):
    with commit():
        order = place({variant: 1}, accepted=True)
    mail.outbox.clear()
    url = page_url(order)
    with time_machine.travel(timezone.now() + timedelta(days=181)):
        response = browser.get(url)
        assert response.status_code == 410
        assert "This link has expired" in text(response)
        assert order.number not in text(response)
        with commit():
            response = browser.post(reverse("backorders:selfservice_renew", args=[url.split("/")[-2]]))
        assert response.status_code == 200
        assert "We have emailed a fresh link" in text(response)
        [message] = mail.outbox
        assert message.to == [order.email]
        assert message.subject == f"Acme: your link to order {order.number}"
        fresh_link = re.search(r"https?://\S+/backorders/order/\S+/", message.body).group(0)
        assert browser.get(fresh_link.split("8000", 1)[1]).status_code == 200
        with commit():  # asking again the same day sends nothing more
            browser.post(reverse("backorders:selfservice_renew", args=[url.split("/")[-2]]))
        assert len(mail.outbox) == 1


def test_cancel_asks_for_confirmation_then_cancels_once_with_one_email(variant, place, commit, csrf_browser):
    with commit():
        order = place({variant: 2}, accepted=True)
    backorder = order.backorders.get()
    mail.outbox.clear()
    url = cancel_url(order, backorder)

    confirm = csrf_browser.get(url)
    assert "Cancel this item?" in text(confirm) and "2 × Blue Mug" in text(confirm)
    assert fresh_status(backorder) == Backorder.Status.WAITING  # a GET changes nothing

    with commit():
        response = submit(csrf_browser, url)
    assert response.status_code == 302
    assert csrf_browser.get(response["Location"]).status_code == 200
    assert "The item was cancelled" in text(csrf_browser.get(response["Location"]))
    with commit():  # the second click of a double submit
        again = csrf_browser.post(
            url,
            {"csrfmiddlewaretoken": csrf_browser.cookies["csrftoken"].value},
            HTTP_REFERER=f"https://testserver{url}",
        )
    assert again.status_code == 302 and again["Location"].endswith("?notice=already")
    assert fresh_status(backorder) == Backorder.Status.CANCELLED
    assert Event.objects.filter(backorder=backorder, kind="cancelled", actor_kind="customer").count() == 1
    [message] = [m for m in mail.outbox if m.to == [order.email]]
    assert "As you asked, we have cancelled these items" in message.body
    assert Notification.objects.filter(kind="cancelled").count() == 1
    [owner] = [m for m in mail.outbox if m.to == [order.shop.owner_email]]  # once, to settle it
    assert f"cancelled these backordered items of order {order.number}" in owner.body


def test_cancel_without_the_csrf_token_is_refused(variant, place, csrf_browser):
    order = place({variant: 1}, accepted=True)
    response = csrf_browser.post(cancel_url(order, order.backorders.get()))
    assert response.status_code == 403
    assert fresh_status(order.backorders.get()) == Backorder.Status.WAITING


def test_cancelling_a_partly_allocated_line_gives_its_units_to_the_next_in_line(
    variant, place, commit, browser
):
    with commit():
        first = place({variant: 2}, accepted=True)
        second = place({variant: 1}, accepted=True)
    with commit():
        stock_set_available(variant=variant, available=-2, actor=OWNER)  # 1 unit: half of the first line
    assert first.backorders.get().quantity_allocated == 1
    mail.outbox.clear()
    with commit():
        browser.post(cancel_url(first, first.backorders.get()))
    assert fresh_status(second.backorders.get()) == Backorder.Status.ALLOCATED
    assert sorted(m.subject for m in mail.outbox) == sorted(
        [
            f"Acme: items of your order {first.number} were cancelled",
            f"Acme: your order {second.number} is ready to ship",
            f"Acme: order {first.number} has cancelled items to refund",  # to the owner
        ]
    )


def test_an_allocated_line_has_no_cancel_button_and_cannot_be_cancelled_here(variant, place, commit, browser):
    order = place({variant: 1}, accepted=True)
    stock_set_available(variant=variant, available=0, actor=OWNER)
    page = text(browser.get(page_url(order)))
    assert "Cancel this item" not in page and "it will ship shortly" in page
    response = browser.post(cancel_url(order, order.backorders.get()))
    assert response["Location"].endswith("?notice=not_waiting")
    assert fresh_status(order.backorders.get()) == Backorder.Status.ALLOCATED


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_cancel_clicks_cancel_once_and_email_once(variant, place):
    order = place({variant: 1}, accepted=True)  # committed; the confirmation went out (eager)
    mail.outbox.clear()
    url = cancel_url(order, order.backorders.get())
    barrier = threading.Barrier(2)
    statuses = []

    def click():
        try:
            client = HttpsClient()
            barrier.wait()
            statuses.append(client.post(url)["Location"].rsplit("=", 1)[1])
        finally:
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == ["already", "cancelled"]
    assert Event.objects.filter(kind="cancelled").count() == 1
    assert sorted(m.to[0] for m in mail.outbox) == sorted([order.email, order.shop.owner_email])


def test_unsubscribe_page_asks_first_then_unsubscribes_from_optional_emails_only(shop, browser):
    url = reverse("backorders:unsubscribe", args=[links.unsubscribe_token(shop, "Ada@Example.com")])
    page = browser.get(url)
    assert page.status_code == 200 and "ada@example.com" in text(page)
    assert not Suppression.objects.exists()  # a link scanner's GET unsubscribes nobody
    done = browser.post(url)
    assert done.status_code == 200 and "You are unsubscribed" in text(done)
    suppression = Suppression.objects.get()
    assert (suppression.email, suppression.reason) == ("ada@example.com", "unsubscribed")
    browser.post(url)  # twice: still one
    assert Suppression.objects.count() == 1
    assert browser.get(url[:-5] + "xxxx/").status_code == 404


def fresh_status(backorder) -> str:
    return Backorder.objects.get(pk=backorder.pk).status


def test_the_confirm_page_says_what_the_shop_says_about_the_money(variant, place, browser, shop):
    order = place({variant: 1}, accepted=True)
    url = cancel_url(order, order.backorders.get())
    page = browser.get(url).content.decode()
    assert "The shop is told at once and will refund this item" in page  # the default: only what is true
    shop.cancellation_payment_texts = {"en": "We refund you within 3 working days."}
    shop.save()
    page = browser.get(url).content.decode()
    assert "We refund you within 3 working days." in page
    assert "The shop is told at once" not in page


def test_units_the_platform_already_shipped_cannot_be_cancelled_by_the_customer(variant, place, browser):
    from backorders.models import OrderLine

    order = place({variant: 2}, accepted=True)
    backorder = order.backorders.get()
    OrderLine.objects.filter(pk=backorder.line_id).update(quantity_fulfilled=1)  # shipped ahead of us
    response = browser.post(cancel_url(order, backorder))
    assert response.status_code == 302 and response["Location"].endswith("?notice=not_waiting")
    assert fresh_status(backorder) == Backorder.Status.WAITING
