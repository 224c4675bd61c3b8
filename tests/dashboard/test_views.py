"""The dashboard is the admin's first page: per shop, every tile and bar a link to the admin list
that shows exactly its rows, no script and no inline style, a bounded number of queries."""

import re
from html import unescape

import pytest
from django.urls import reverse

from backorders.models import Backorder
from tests.factories import ShopFactory


def tiles_of(response) -> dict[str, dict]:
    return {tile["id"]: tile for tile in response.context["tiles"]}


def test_the_admin_index_is_the_dashboard_and_keeps_the_app_list(admin_client, attention_queue, shop):
    response = admin_client.get(reverse("admin:index"))

    assert response.status_code == 200
    html = response.content.decode()
    assert f"Dashboard — {shop.name}" in html
    assert 'id="tile-overdue"' in html
    # Every model of the admin stays reachable from the same page.
    assert reverse("admin:backorders_backorder_changelist") in html
    assert reverse("admin:app_list", args=["backorders"]) in html


def test_each_tile_counts_what_the_list_it_links_to_shows(admin_client, attention_queue, shop):
    tiles = tiles_of(admin_client.get(reverse("admin:index")))

    assert tiles["overdue"]["value"] == 2
    assert tiles["flagged"]["value"] == 1
    assert tiles["cancellations"]["value"] == 1
    assert tiles["emails-failed"]["value"] == 1
    assert tiles["emails-unknown"]["value"] == 1
    assert tiles["webhooks-failed"]["value"] == 1
    assert tiles["customers-waiting"]["value"] == 4  # the fifth cancelled
    assert tiles["units-waiting"]["value"] == 2 + 1 + 1  # the cap's 3 are allocated
    for name in ("overdue", "flagged", "cancellations", "emails-failed", "emails-unknown", "webhooks-failed"):
        listed = admin_client.get(tiles[name]["href"])
        assert listed.status_code == 200, name
        assert listed.context["cl"].result_count == tiles[name]["value"], name
    overdue = admin_client.get(tiles["overdue"]["href"]).context["cl"].result_list
    assert {bo.pk for bo in overdue} == attention_queue["overdue"]
    waiting = admin_client.get(tiles["units-waiting"]["href"]).context["cl"].result_list
    assert sum(bo.quantity_unallocated for bo in waiting) == tiles["units-waiting"]["value"]
    # The oldest wait leads to that backorder's own page.
    oldest = Backorder.objects.filter(status="waiting").order_by("queued_at", "pk").first()
    assert tiles["oldest-wait"]["href"] == reverse("admin:backorders_backorder_change", args=[oldest.pk])


def test_every_chart_bar_links_to_a_list_of_exactly_its_rows(admin_client, attention_queue, shop):
    response = admin_client.get(reverse("admin:index"))

    by_age = {bar.label: bar for bar in response.context["age_chart"].bars}
    assert sum(bar.value for bar in by_age.values()) == 4
    for bar in by_age.values():
        listed = admin_client.get(bar.href).context["cl"].result_list
        assert sum(bo.quantity_unallocated for bo in listed) == bar.value, bar.label
    top = response.context["top_chart"].bars
    assert [bar.value for bar in top] == [3, 1]  # mug 2 + 1 waiting, cap 1 waiting
    for bar in top:
        listed = admin_client.get(bar.href).context["cl"].result_list
        assert sum(bo.quantity_unallocated for bo in listed) == bar.value
    strips = {strip.label: strip for strip in response.context["activity"]["chart"].strips}
    assert strips["Created"].total == 5 and strips["Cancelled"].total == 1 and strips["Allocated"].total == 1
    for strip in strips.values():
        for column in strip.columns:
            if column.value:
                listed = admin_client.get(column.href).context["cl"]
                assert listed.result_count == column.value, column.title
    emails = {bar.label: bar for bar in response.context["email_chart"].bars}
    assert emails["Failed"].value == 1
    assert admin_client.get(emails["Failed"].href).context["cl"].result_count == 1


def test_the_page_runs_no_script_of_its_own_and_has_no_inline_style(admin_client, attention_queue):
    html = admin_client.get(reverse("admin:index")).content.decode()

    assert " style=" not in html and "<style" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)  # only Django's admin script files
    assert not re.search(r"https?://(?!testserver)[^\"' ]+\.(js|css)", html)  # no CDN
    for chart in ("chart-age", "chart-top", "chart-activity", "chart-emails"):
        assert f'<title id="{chart}-title">' in html and f'<desc id="{chart}-desc">' in html


def test_values_from_outside_are_escaped_in_tiles_and_charts(admin_client, shop, make_variant, place):
    hostile = '<script>alert(1)</script>"&'
    variant = make_variant(stock=0, inventory_policy="continue", product__title=hostile)
    place({variant: 1})
    shop.name = hostile
    shop.save()

    html = admin_client.get(reverse("admin:index")).content.decode()

    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_a_user_with_several_shops_switches_between_them(admin_client, attention_queue, shop):
    other = ShopFactory(domain="other.myshopify.com", name="Other")

    first = admin_client.get(reverse("admin:index"))
    assert 'id="dashboard-shop"' in first.content.decode()
    response = admin_client.get(reverse("admin:index"), {"shop": other.pk})

    assert response.status_code == 200
    assert response.context["shop"] == other
    assert tiles_of(response)["overdue"]["value"] == 0
    assert f"shop__id__exact={other.pk}" in unescape(tiles_of(response)["overdue"]["href"])


@pytest.mark.parametrize("value", ["abc", "1 OR 1=1", "9" * 40, "-1", "１"])
def test_a_malformed_shop_is_refused_with_a_message(admin_client, shop, value):
    response = admin_client.get(reverse("admin:index"), {"shop": value})

    assert response.status_code == 400
    assert "is not a shop" in response.content.decode()


def test_a_shop_the_user_may_not_see_is_not_found(admin_client, shop):
    response = admin_client.get(reverse("admin:index"), {"shop": shop.pk + 1000})

    assert response.status_code == 404


def test_staff_without_access_to_a_shop_see_no_shop_data(client, django_user_model, attention_queue, shop):
    staff = django_user_model.objects.create_user("helper", password="a-long-pass-phrase-1", is_staff=True)
    client.force_login(staff)

    response = client.get(reverse("admin:index"))

    assert response.status_code == 200
    assert response.context["dashboard"] is None
    assert shop.name not in response.content.decode()
    assert client.get(reverse("admin:index"), {"shop": shop.pk}).status_code == 404


def test_the_dashboard_speaks_german(admin_client, attention_queue):
    response = admin_client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="de")

    html = response.content.decode()
    assert "Überfällige ETAs" in html
    assert "Wartende Kundschaft" in html


def test_the_dashboard_queries_do_not_grow_with_rows(
    admin_client, attention_queue, django_assert_max_num_queries
):
    with django_assert_max_num_queries(15):
        assert admin_client.get(reverse("admin:index")).status_code == 200


def test_a_member_of_another_shop_sees_only_their_shops_tiles(
    client, django_user_model, attention_queue, shop, make_variant
):
    from backorders.services.audit import Actor
    from backorders.services.tenancy import membership_grant

    other = ShopFactory(domain="quiet.myshopify.com", name="Quiet Shop")
    helper = django_user_model.objects.create_user("quiet-helper", password="a-long-pass-phrase-1")
    membership_grant(user=helper, shop=other, role="staff", actor=Actor.system("test"))
    client.force_login(helper)

    response = client.get(reverse("admin:index"))

    assert response.status_code == 200
    assert response.context["shop"] == other
    assert [s.pk for s in response.context["shops"]] == [other.pk]  # the switcher lists theirs only
    assert 'id="dashboard-shop"' not in response.content.decode()
    tiles = tiles_of(response)
    assert all(
        tiles[name]["value"] == 0 for name in ("overdue", "flagged", "cancellations", "webhooks-failed")
    )
    assert tiles["customers-waiting"]["value"] == 0  # the other shop has 4
    html = response.content.decode()
    assert shop.name not in html
    assert 'id="tile-rejections"' not in html  # the site-wide tally is for superusers
    assert "Backorders · Quiet Shop" in html
    assert client.get(reverse("admin:index"), {"shop": shop.pk}).status_code == 404
