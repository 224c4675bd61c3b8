"""The product page's alternatives: pins and hides through the services (another shop's product
refused with a message), the lookup limited to the shop, the computed ranking shown read-only."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from backorders.models import AlternativeOverride, Product, ProductAlternative
from tests.factories import ProductFactory, ShopFactory, VariantFactory

PREFIX = "alternative_overrides"


@pytest.fixture(autouse=True)
def _plain_http(settings):
    settings.SECURE_SSL_REDIRECT = False
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def mug(shop):
    product = ProductFactory(shop=shop, title="Blue mug")
    VariantFactory(product=product)
    return product


def change_url(product: Product) -> str:
    return reverse("admin:backorders_product_change", args=[product.pk])


def page_data(response) -> dict[str, str]:
    """What the change page would post back unchanged (main form and every inline)."""
    data: dict[str, str] = {}

    def add(form, prefix: str = "") -> None:
        for name in form.fields:
            value = form[name].value()
            key = f"{prefix}{name}" if prefix else form.add_prefix(name)
            if value is True:
                data[key] = "on"
            elif value not in (None, False):
                data[key] = str(value)

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for key, value in formset.management_form.initial.items():
            data[f"{formset.prefix}-{key}"] = str(value)
        for form in formset.forms:
            add(form)
    return data


def with_override(data, index, alternative, kind="pin", position=0, *, new=True):
    total = int(data[f"{PREFIX}-TOTAL_FORMS"])
    if new:
        data[f"{PREFIX}-TOTAL_FORMS"] = str(total + 1)
    data.update(
        {
            f"{PREFIX}-{index}-alternative": str(alternative.pk),
            f"{PREFIX}-{index}-kind": kind,
            f"{PREFIX}-{index}-position": str(position),
        }
    )
    return data


def test_the_owner_pins_and_hides_alternatives_through_the_services(admin_client, shop, mug):
    cup, bowl = ProductFactory(shop=shop, title="Cup"), ProductFactory(shop=shop, title="Bowl")
    data = page_data(admin_client.get(change_url(mug)))
    with_override(data, 0, cup, "pin", 3)
    data = with_override(data, 1, bowl, "hide")
    response = admin_client.post(change_url(mug), data)
    assert response.status_code == 302, response.context and response.context["errors"]
    overrides = {
        o.alternative.title: (o.kind, o.position, o.actor_name) for o in AlternativeOverride.objects.all()
    }
    assert overrides == {"Cup": ("pin", 3, "admin"), "Bowl": ("hide", 0, "admin")}
    assert AlternativeOverride.objects.filter(shop=shop).count() == 2

    # Removing one (the inline's delete box) goes through alternative_override_remove.
    data = page_data(admin_client.get(change_url(mug)))
    index = next(i for i in range(2) if data[f"{PREFIX}-{i}-alternative"] == str(bowl.pk))
    data[f"{PREFIX}-{index}-DELETE"] = "on"
    assert admin_client.post(change_url(mug), data).status_code == 302
    assert list(AlternativeOverride.objects.values_list("alternative__title", flat=True)) == ["Cup"]


def test_another_shops_product_is_refused_with_a_message_and_nothing_saved(admin_client, mug):
    foreign = ProductFactory(shop=ShopFactory(), title="Foreign mug")
    data = with_override(page_data(admin_client.get(change_url(mug))), 0, foreign)
    response = admin_client.post(change_url(mug), data)
    assert response.status_code == 200
    assert "belongs to another shop" in response.content.decode()
    assert not AlternativeOverride.objects.exists()


def test_the_product_itself_and_a_position_out_of_range_are_refused(admin_client, shop, mug):
    cup = ProductFactory(shop=shop, title="Cup")
    data = with_override(page_data(admin_client.get(change_url(mug))), 0, mug)
    response = admin_client.post(change_url(mug), data)
    assert "cannot be its own alternative" in response.content.decode()
    data = with_override(page_data(admin_client.get(change_url(mug))), 0, cup, position=5000)
    assert admin_client.post(change_url(mug), data).status_code == 200
    assert not AlternativeOverride.objects.exists()


def test_the_alternative_lookup_opens_the_shops_products_only(admin_client, shop, mug):
    content = admin_client.get(change_url(mug)).content.decode()
    assert f"shop__id__exact={shop.pk}" in content
    other = ProductFactory(shop=ShopFactory(), title="Elsewhere")
    lookup = admin_client.get(reverse("admin:backorders_product_changelist"), {"shop__id__exact": shop.pk})
    assert lookup.status_code == 200
    listed = {p.pk for p in lookup.context["cl"].result_list}
    assert mug.pk in listed and other.pk not in listed


def test_the_computed_ranking_is_shown_read_only_and_escaped(admin_client, shop, mug):
    hostile = ProductFactory(shop=shop, title="<script>alert(1)</script> mug")
    ProductAlternative.objects.create(
        shop=shop,
        product=mug,
        alternative=hostile,
        score=0.8125,
        rank=1,
        higher_tier=True,
        computed_at=datetime(2026, 11, 1, 12, tzinfo=UTC),
    )
    content = admin_client.get(change_url(mug)).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; mug" in content
    assert "<script>alert(1)</script>" not in content
    assert "0.812" in content or "0.813" in content
    assert "2026-11-01 12:00" in content
