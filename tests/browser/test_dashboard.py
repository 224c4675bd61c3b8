"""The owner's first page in a real Chromium at 1366 px: log in, land on the dashboard, follow
the overdue tile to the backorder list, see only overdue lines; nothing blocked by the admin's
policy, no script error, nothing cut off."""

from datetime import timedelta

import pytest
from django.utils import timezone

from backorders.models import Backorder
from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_owner_lands_on_the_dashboard_and_follows_the_overdue_tile(
    chromium, site, django_user_model, shop, make_variant, place
):
    django_user_model.objects.create_superuser("owner", "owner@example.com", "a-long-pass-phrase-1")
    mug = make_variant(
        stock=0, inventory_policy="continue", sku="MUG-RED-LARGE", product__title="Stoneware mug, red"
    )
    scarf = make_variant(
        stock=0, inventory_policy="continue", sku="SCARF-WOOL", product__title="Merino scarf, long"
    )
    orders = [place({mug: 2}, customer_name=f"Customer {n}") for n in range(3)]
    orders += [place({scarf: 1}, customer_name=f"Scarf buyer {n}") for n in range(3)]
    today = timezone.localdate(timezone=shop.zoneinfo)
    backorders = list(Backorder.objects.filter(order__in=orders).order_by("pk"))
    overdue = {backorders[0].pk, backorders[3].pk}
    for n, backorder in enumerate(backorders):
        eta = today - timedelta(days=4) if backorder.pk in overdue else today + timedelta(days=10 + n)
        Backorder.objects.filter(pk=backorder.pk).update(
            eta=eta, eta_source="manual", queued_at=timezone.now() - timedelta(days=3 + 9 * n)
        )
    context = chromium.new_context(base_url=site.url, locale="en-US", viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems = []
    page.on(
        "console",
        lambda m: m.type == "error" and "Content Security Policy" in m.text and problems.append(m.text),
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    try:
        page.goto("/admin/login/?next=/admin/")
        page.fill("#id_username", "owner")
        page.fill("#id_password", "a-long-pass-phrase-1")
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url("**/admin/")
        assert page.locator("#dashboard").count() == 1
        assert page.locator("#tile-overdue .dashboard-value").inner_text() == "2"
        assert page.locator("#chart-age a").count() == 5
        screenshot(page, "dashboard")

        page.locator("#tile-overdue a").click()
        page.wait_for_url("**/admin/backorders/backorder/?*overdue=yes*")
        rows = page.locator("#result_list tbody tr")
        assert rows.count() == 2
        assert page.locator("#result_list .backorders-date.backorders-overdue").count() == 2
        # Readable at 1366 px: the table is not wider than its box.
        widths = page.evaluate(
            "() => { const r = document.querySelector('#changelist-form .results');"
            " const d = document.documentElement;"
            " return [r.scrollWidth, r.clientWidth, d.scrollWidth, window.innerWidth]; }"
        )
        screenshot(page, "backorder-list-overdue")
        assert widths[0] <= widths[1] and widths[2] <= widths[3], widths
        page.goto("/admin/backorders/backorder/")
        screenshot(page, "backorder-list")
        assert problems == []
    finally:
        context.close()
