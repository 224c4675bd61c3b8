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
