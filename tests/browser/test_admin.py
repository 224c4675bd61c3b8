"""The owner's admin in a real Chromium, under the admin's Content-Security-Policy: Django 5.2's
admin scripts (all files) run, its inline styles apply, nothing is blocked."""

from datetime import date

import pytest

from backorders.csp import HEADER
from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def mug(make_variant):
    return make_variant(stock=0, inventory_policy="continue", restock_date=date(2027, 3, 1))


def test_the_admin_works_under_its_policy(page, site, django_user_model, shop, mug, place):
    django_user_model.objects.create_superuser("owner", "owner@example.com", "a-long-pass-phrase-1")
    place({mug: 1}, accepted=True)
    response = page.goto("/admin/login/")
    policy = response.headers[HEADER.lower()]
    script_src = next(d for d in policy.split("; ") if d.startswith("script-src"))
    assert script_src == "script-src 'self'"  # no inline script, even in the admin
    page.fill("#id_username", "owner")
    page.fill("#id_password", "a-long-pass-phrase-1")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin/")
    page.goto("/admin/backorders/backorder/")
    assert page.locator("#result_list tbody tr").count() == 1
    screenshot(page, "admin-backorders")
    # The admin's scripts run under the policy: the action checkbox counter is theirs.
    page.locator("#result_list .action-select").check()
    assert page.locator(".action-counter").inner_text().startswith("1 of 1 selected")
    page.goto(f"/admin/backorders/shop/{shop.pk}/change/")
    assert page.locator("#shop_form").count() == 1
    screenshot(page, "admin-shop")
    # The email preview frames the HTML part, which carries its own (inline-style) policy.
    page.goto("/admin/backorders/notification/preview/shipped/en/")
    frame = page.frame_locator("iframe")
    assert "Track your parcel" in frame.locator("body").inner_text()
    screenshot(page, "admin-email-preview")
    assert page.problems == []
