"""A staff member of shop B in a real Chromium: the dashboard shows B's numbers only, the lists
show no row of shop A, and a URL of an A row is not found."""

import pytest
from django.urls import reverse

from backorders.models import Backorder, Product
from backorders.services.audit import Actor
from backorders.services.tenancy import membership_grant
from tests.browser.conftest import screenshot
from tests.factories import ShopFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_staff_member_of_shop_b_sees_nothing_of_shop_a(
    page, site, django_user_model, shop, make_variant, place
):
    # Shop A (the ``shop`` fixture, "Acme") has two customers waiting; shop B has none.
    mug = make_variant(
        stock=0,
        inventory_policy="continue",
        product__title="Acme secret mug",
        product__vendor="Acme Vendor",
        product__product_type="Acme type",
        product__tags=["a", "b"],
    )
    place({mug: 2}, accepted=True)
    place({mug: 1}, accepted=True)
    shop_b = ShopFactory(domain="bay.myshopify.com", name="Bay Goods")
    from tests.factories import ProductFactory

    ProductFactory(shop=shop_b, title="Bay lantern", vendor="Bay Works", tags=["outdoor", "light"])
    user = django_user_model.objects.create_user("bay-staff", password="a-long-pass-phrase-1")
    membership_grant(user=user, shop=shop_b, role="staff", actor=Actor.system("test"))

    page.goto("/admin/login/")
    page.fill("#id_username", "bay-staff")
    page.fill("#id_password", "a-long-pass-phrase-1")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin/")
    assert page.locator("#site-name").inner_text() == "Backorders · Bay Goods"
    assert page.locator("#tile-customers-waiting .dashboard-value").inner_text() == "0"
    assert page.locator("#tile-rejections").count() == 0
    assert "Acme" not in page.content()
    screenshot(page, "staff-dashboard")

    page.goto("/admin/backorders/backorder/")
    assert page.locator("#result_list tbody tr").count() == 0
    page.goto("/admin/backorders/product/")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 1 and "Bay lantern" in rows.inner_text()
    assert page.locator("#result_list .backorders-chip").all_inner_texts() == ["outdoor", "light"]
    assert "Acme" not in page.content()
    screenshot(page, "staff-products")

    # A's rows by URL: not found (Django's admin goes back to the index saying so).
    backorder = Backorder.objects.filter(shop=shop).first()
    page.goto(reverse("admin:backorders_backorder_change", args=[backorder.pk]))
    assert "doesn’t exist" in page.locator(".messagelist").inner_text()
    assert "Acme secret mug" not in page.content()
    response = page.goto(reverse("admin:backorders_backorder_move_eta", args=[backorder.pk]))
    assert response.status == 404
    response = page.goto(f"/admin/?shop={shop.pk}")
    assert response.status == 404
    assert Product.objects.filter(shop=shop).count() == 1
    assert page.problems == []


def test_the_admin_at_1366_px_in_german(chromium, site, django_user_model, shop, make_variant, place):
    """Wide lists scroll inside their box at 1366 px; the app's labels are German for de-DE."""
    mug = make_variant(stock=0, inventory_policy="continue", product__tags=["Steingut", "Blau", "Geschenk"])
    place({mug: 2}, accepted=True)
    django_user_model.objects.create_superuser("owner", "owner@example.com", "a-long-pass-phrase-1")
    context = chromium.new_context(base_url=site.url, locale="de-DE", viewport={"width": 1366, "height": 900})
    page = context.new_page()
    try:
        page.goto("/admin/login/")
        page.fill("#id_username", "owner")
        page.fill("#id_password", "a-long-pass-phrase-1")
        page.locator("input[type=submit]").click()
        page.wait_for_url("**/admin/")
        assert page.title().endswith("Backorders-Verwaltung")
        for path, name in (
            ("/admin/backorders/backorder/", "admin-1366-backorders-de"),
            ("/admin/backorders/product/", "admin-1366-products-de"),
            (f"/admin/backorders/product/{mug.product_id}/change/", "admin-1366-product-de"),
        ):
            page.goto(path)
            # Nothing pushes the page sideways: the document is no wider than the window.
            assert page.evaluate("document.documentElement.scrollWidth") <= 1366, path
            screenshot(page, name)
        page.goto(f"/admin/backorders/product/{mug.product_id}/change/")
        assert page.locator(".field-tag_chips .backorders-chip").all_inner_texts() == [
            "Steingut",
            "Blau",
            "Geschenk",
        ]
    finally:
        context.close()
