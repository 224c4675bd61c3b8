"""``{% load backorders %}``: the storefront tags render the selector's decision, escaped, in a
bounded number of queries."""

from datetime import date

import pytest
import time_machine
from django.template import Context, Template
from django.utils import translation

from backorders.models import BackorderMode

pytestmark = pytest.mark.django_db


def render(source, **context):
    return Template("{% load backorders %}" + source).render(Context(context))


@pytest.fixture
def allow(shop):
    shop.backorder_mode = BackorderMode.ALLOW
    shop.handling_days = 2
    shop.save()
    return shop


@time_machine.travel("2026-12-01 10:00Z", tick=False)
def test_the_badge_shows_state_badge_and_eta_in_a_live_region_with_no_query(
    allow, make_variant, django_assert_num_queries
):
    variant = make_variant(restock_date=date(2026, 12, 10))
    with django_assert_num_queries(0):
        html = render("{% backorder_badge variant %}", variant=variant)
    assert 'class="backorders-badge backorders-badge--backorder" role="status" aria-live="polite"' in html
    assert "Backorder — ships by 12 Dec" in html
    assert "Ships by Saturday, 12 December 2026" in html
    with translation.override("de"), django_assert_num_queries(0):
        assert "Nachbestellt — Versand bis 12. Dez." in render(
            "{% backorder_badge variant %}", variant=variant
        )


@pytest.mark.parametrize(
    ("stock", "fields", "state", "text"),
    [
        (10, {}, "in_stock", "In stock"),
        (2, {}, "low_stock", "Only 2 left"),
        (0, {"backorder_mode": BackorderMode.DENY}, "out_of_stock", "Out of stock — notify me"),
        (0, {"discontinued": True}, "discontinued", "Discontinued"),
    ],
)
def test_each_state_has_its_class_and_no_eta_unless_backordered(
    allow, make_variant, stock, fields, state, text
):
    html = render("{% backorder_badge variant %}", variant=make_variant(stock=stock, **fields))
    assert f"backorders-badge--{state}" in html and text in html
    assert "backorders-eta" not in html


def test_a_restock_note_or_title_from_outside_is_escaped(allow, make_variant):
    variant = make_variant(
        stock=0, product__title="<script>alert(1)</script>", backorder_mode=BackorderMode.DENY
    )
    html = render("{% backorder_badge variant %}<p>{{ variant }}</p>", variant=variant)
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_a_host_overrides_the_badge_template(allow, make_variant, settings, tmp_path):
    (tmp_path / "backorders" / "storefront").mkdir(parents=True)
    (tmp_path / "backorders" / "storefront" / "badge.html").write_text("<b>{{ availability.badge }}!</b>")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path]}]
    assert render("{% backorder_badge variant %}", variant=make_variant(stock=10)) == "<b>In stock!</b>"


def test_the_restock_form_posts_to_the_signup_view_labelled_with_csrf_and_no_query(
    allow, make_variant, django_assert_num_queries, rf
):
    from django.middleware.csrf import get_token

    variant = make_variant(stock=0, backorder_mode=BackorderMode.DENY)
    request = rf.get("/store/products/x/?variant=1")
    token = get_token(request)
    with django_assert_num_queries(0):  # the shop does not show the count: no query at all
        html = render("{% restock_alert_form variant %}", variant=variant, request=request, csrf_token=token)
    assert 'action="/backorders/alerts/signup/"' in html and 'method="post"' in html
    assert f'<input type="hidden" name="variant" value="{variant.pk}">' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert '<input type="hidden" name="next" value="/store/products/x/?variant=1">' in html
    assert f'<label class="backorders-alert__label" for="backorders-alert-email-{variant.pk}">' in html
    assert f'id="backorders-alert-email-{variant.pk}" type="email" name="email" required' in html


def test_the_restock_form_counts_who_waits_in_one_query_when_the_shop_shows_it(
    allow, make_variant, django_assert_num_queries
):
    from tests.services.test_alerts import confirmed_alerts

    allow.show_alert_count = True
    allow.save()
    variant = make_variant(stock=0, backorder_mode=BackorderMode.DENY)
    confirmed_alerts(variant, 3)
    with django_assert_num_queries(1):
        html = render("{% restock_alert_form variant %}", variant=variant)
    assert "3 people are waiting for this" in html


@pytest.mark.parametrize(
    ("stock", "fields"), [(10, {}), (0, {}), (0, {"discontinued": True})]
)  # in stock, backorder, discontinued
def test_no_restock_form_when_it_can_be_ordered_or_is_gone(allow, make_variant, stock, fields):
    html = render("{% restock_alert_form variant %}", variant=make_variant(stock=stock, **fields))
    assert "<form" not in html
