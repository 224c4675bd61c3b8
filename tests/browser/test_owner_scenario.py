"""The owner's morning in a real Chromium, as issue 13 tells it: the shop's owner (a member with
the owner role, not a superuser) logs in, lands on the dashboard, follows the overdue tile to the
filtered list, sets a restock date for the two late variants with the bulk action, reads how many
customers it moves and emails, confirms, and finds the audit events and the delay emails; then a
staff member of another shop logs in and sees none of it."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from backorders.models import Backorder, Event, Notification
from backorders.services.audit import Actor
from backorders.services.tenancy import membership_grant
from tests.browser.conftest import screenshot
from tests.factories import ProductFactory, ShopFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-pass-phrase-1"


def log_in(page, username):
    page.goto("/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin/")


def test_the_owner_moves_two_late_items_and_another_shops_staff_sees_none_of_it(
    page, site, django_user_model, shop, make_variant, place
):
    today = timezone.localdate(timezone=shop.zoneinfo)
    late = today + timedelta(days=3)
    mug = make_variant(stock=0, inventory_policy="continue", restock_date=late, product__title="Red mug")
    plate = make_variant(
        stock=0, inventory_policy="continue", restock_date=late, product__title="Stone plate"
    )
    bowl = make_variant(stock=0, inventory_policy="continue", restock_date=late, product__title="Tea bowl")
    place({mug: 1}, accepted=True, customer_name="Ada")
    place({mug: 1, plate: 2}, accepted=True, customer_name="Ben")  # one order, two lines: one email
    place({bowl: 1}, accepted=True, customer_name="Cem")
    # The mug's and the plate's promises have passed (the supplier was late); the bowl's has not.
    for backorder in Backorder.objects.filter(variant__in=[mug, plate]):
        Backorder.objects.filter(pk=backorder.pk).update(eta=today - timedelta(days=2))
    owner = django_user_model.objects.create_user("acme-owner", password=PASSWORD)
    membership_grant(user=owner, shop=shop, role="owner", actor=Actor.system("test"))
    Notification.objects.all().delete()  # the confirmations of the set-up

    page.set_viewport_size({"width": 1366, "height": 900})  # the laptop width
    log_in(page, "acme-owner")
    assert page.locator("#site-name").inner_text() == "Backorders · Acme"
    assert page.locator("#dashboard").count() == 1
    assert page.locator("#tile-overdue .dashboard-value").inner_text() == "3"
    screenshot(page, "scenario-dashboard")

    page.locator("#tile-overdue a").click()
    page.wait_for_url("**/admin/backorders/backorder/?*overdue=yes*")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 3
    assert "Tea bowl" not in page.inner_text("#result_list")
    screenshot(page, "scenario-overdue-list")

    page.goto("/admin/backorders/variant/")
    for variant in (mug, plate):
        page.locator(f'#result_list input.action-select[value="{variant.pk}"]').check()
    page.select_option("select[name=action]", "set_restock_date")
    page.get_by_role("button", name="Go").click()
    page.wait_for_selector("#restock-form")
    new_date = today + timedelta(days=20)
    page.fill("input[name=restock_date]", new_date.isoformat())
    page.fill("input[name=note]", "The supplier shipped late")
    page.get_by_role("button", name="Show what it changes").click()
    counts = page.locator("#restock-counts")
    counts.wait_for()
    # Three backorders of two orders move; each order gets one email.
    assert counts.inner_text() == "2 customers' ETAs move, 2 will be emailed."
    screenshot(page, "scenario-restock-preview")
    assert not Event.objects.filter(kind=Event.Kind.ETA_CHANGED).exists()  # nothing before confirming

    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url("**/admin/backorders/variant/")
    assert page.locator("ul.messagelist li.success").inner_text() == (
        "Restock date set for 2 variant(s); 2 customers' ETAs moved; 2 email(s) queued."
    )

    page.goto("/admin/backorders/event/?kind__exact=eta_changed")
    events = page.locator("#result_list tbody tr")
    assert events.count() == 3
    assert all("acme-owner" in text for text in events.all_inner_texts())
    screenshot(page, "scenario-events")
    page.goto("/admin/backorders/notification/?kind__exact=eta_changed")
    assert page.locator("#result_list tbody tr").count() == 2
    screenshot(page, "scenario-delay-emails")
    handling = Backorder.objects.filter(variant=mug).first().eta - new_date
    assert set(Backorder.objects.filter(variant__in=[mug, plate]).values_list("eta", flat=True)) == {
        new_date + handling
    }
    assert Backorder.objects.get(variant=bowl).eta != new_date + handling  # not selected: unchanged
    page.context.clear_cookies()  # the owner leaves

    # A staff member of shop B: nothing of Acme anywhere.
    shop_b = ShopFactory(domain="bay.myshopify.com", name="Bay Goods")
    ProductFactory(shop=shop_b, title="Bay lantern")
    staff = django_user_model.objects.create_user("bay-staff", password=PASSWORD)
    membership_grant(user=staff, shop=shop_b, role="staff", actor=Actor.system("test"))
    log_in(page, "bay-staff")
    assert page.locator("#site-name").inner_text() == "Backorders · Bay Goods"
    assert page.locator("#tile-overdue .dashboard-value").inner_text() == "0"
    for path in (
        "/admin/backorders/backorder/",
        "/admin/backorders/event/",
        "/admin/backorders/notification/",
    ):
        page.goto(path)
        assert page.locator("#result_list tbody tr").count() == 0, path
    page.goto("/admin/backorders/variant/")
    assert "Red mug" not in page.content() and "Acme" not in page.content()
    page.goto(reverse("admin:backorders_variant_change", args=[mug.pk]))
    assert "doesn’t exist" in page.locator(".messagelist").inner_text()
    screenshot(page, "scenario-staff-b")
    assert page.problems == []
