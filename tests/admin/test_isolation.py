"""Per-shop staff in the admin: for every ModelAdmin the app registers, a member of shop A sees
none of shop B's rows, cannot open or change them by URL, by a crafted foreign key, by an action
on B's ids or through an autocomplete; a viewer changes nothing; a superuser sees both.

The admins are read from ``admin.site._registry``: one registered later without rows in
``world()`` fails here until it has some (and so gets its isolation checked too)."""

from datetime import timedelta

import pytest
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core import mail
from django.forms import ModelChoiceField
from django.forms.models import model_to_dict
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from backorders.admin.base import ShopScopedMixin, shop_id_of
from backorders.models import (
    AlternativeOverride,
    Backorder,
    CustomerDataRequest,
    Membership,
    Notification,
    PendingInventory,
    Product,
    RestockAlert,
    Shop,
    Suppression,
    WebhookDelivery,
)
from backorders.services.alternatives import alternative_pin
from backorders.services.audit import Actor
from backorders.services.checkout import LineInput, order_record
from backorders.services.lifecycle import backorder_cancel
from backorders.services.notifications.tracking import suppression_add
from backorders.services.purchasing import (
    purchase_order_create,
    purchase_order_receive,
    purchase_order_send,
    supplier_create,
    supplier_item_set,
)
from backorders.services.shops import api_token_create
from backorders.services.tenancy import membership_grant
from tests.factories import (
    InventoryLevelFactory,
    LocationFactory,
    ProductFactory,
    ShopFactory,
    VariantFactory,
    at,
    next_id,
)

APP_ADMINS = {
    model: model_admin
    for model, model_admin in admin.site._registry.items()
    if model._meta.app_label == "backorders"
}


def _url(model, view: str, *args) -> str:
    return reverse(f"admin:backorders_{model._meta.model_name}_{view}", args=args)


def world(shop: Shop) -> None:
    """At least one row of every model the admin shows, for ``shop``, made by the services
    where a service makes them."""
    actor = Actor.system("test")
    product = ProductFactory(shop=shop, title=f"{shop.name} mug", backorder_mode="allow")
    other = ProductFactory(shop=shop, title=f"{shop.name} cup")
    variant = VariantFactory(product=product, sku=f"SKU-{shop.pk}")
    InventoryLevelFactory(variant=VariantFactory(product=other))
    alternative_pin(product=product, alternative=other, position=0, actor=actor)
    orders = [
        order_record(
            shop=shop,
            platform_id=next_id(),
            number=f"#{shop.pk}-{n}",
            email=f"customer{n}@{shop.domain}",
            placed_at=at(n),
            lines=[LineInput(platform_id=next_id(), variant_id=variant.pk, quantity=2)],
            actor=actor,
        )
        for n in range(2)
    ]
    backorder_cancel(backorder=Backorder.objects.get(order=orders[1]), actor=actor, reason="test")
    suppression_add(shop=shop, email=f"bounced@{shop.domain}", reason=Suppression.Reason.BOUNCED)
    RestockAlert.objects.create(
        shop=shop,
        variant=variant,
        email=f"alert@{shop.domain}",
        expires_at=timezone.now() + timedelta(days=3),
    )
    WebhookDelivery.objects.create(
        shop=shop, topic="orders/create", webhook_id=f"wh-{shop.pk}", status="failed", body="{}"
    )
    PendingInventory.objects.create(shop=shop, inventory_item_id=next_id(), available=3)
    CustomerDataRequest.objects.create(shop=shop, platform_request_id=next_id(), customer_email="c@x.test")
    api_token_create(shop=shop, name=f"{shop.name} ERP", actor=actor)
    supplier = supplier_create(shop=shop, name=f"{shop.name} supplier", actor=actor)
    supplier_item_set(supplier=supplier, variant=variant, actor=actor)
    purchase_order = purchase_order_create(
        supplier=supplier,
        number=f"PO-{shop.pk}",
        expected_on=timezone.localdate() + timedelta(days=5),
        lines={variant.pk: 3},
        actor=actor,
    )
    purchase_order_send(purchase_order=purchase_order, actor=actor)
    LocationFactory(shop=shop)
    purchase_order_receive(
        purchase_order=purchase_order,
        lines={purchase_order.lines.get().pk: 1},
        location=None,
        actor=actor,
    )
    if not Notification.objects.filter(shop=shop).exists():  # emails are planned on commit
        Notification.objects.create(
            shop=shop,
            kind="confirmation",
            recipient=f"customer0@{shop.domain}",
            due_at=timezone.now(),
            order=orders[0],
        )


@pytest.fixture
def shops(db, django_capture_on_commit_callbacks, settings):
    settings.SECURE_SSL_REDIRECT = False
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    a = ShopFactory(domain="shop-a.myshopify.com", name="Shop A")
    b = ShopFactory(domain="shop-b.myshopify.com", name="Shop B")
    with django_capture_on_commit_callbacks(execute=True):
        world(a)
        world(b)
    mail.outbox.clear()  # the customers' emails of the set-up
    return a, b


def member(django_user_model, shop: Shop, role: str, name: str):
    user = django_user_model.objects.create_user(name, password="pw-for-tests-only")
    membership_grant(user=user, shop=shop, role=role, actor=Actor.system("test"))
    return user


@pytest.fixture
def staff_a(shops, client, django_user_model):
    client.force_login(member(django_user_model, shops[0], Membership.Role.STAFF, "staff-a"))
    return client


def rows_of(model, shop: Shop):
    return APP_ADMINS[model].shop_path and model._default_manager.filter(
        **{f"{APP_ADMINS[model].shop_path}__in": [shop.pk]}
    )


def snapshot(model, shop: Shop) -> list[dict]:
    """Every row of ``model`` of ``shop`` with every field, to compare before and after."""
    return [model_to_dict(row) | {"pk": row.pk} for row in rows_of(model, shop).order_by("pk")]


def test_every_admin_of_the_app_is_scoped_and_has_rows_in_both_shops(shops):
    a, b = shops
    assert len(APP_ADMINS) >= 15
    for model, model_admin in APP_ADMINS.items():
        assert isinstance(model_admin, ShopScopedMixin), f"{model.__name__}'s admin is not scoped"
        for inline in model_admin.inlines:
            assert issubclass(inline, ShopScopedMixin) or inline.model is Membership, inline
        for shop in shops:
            assert rows_of(model, shop).exists(), f"add a {model.__name__} row of {shop} to world()"


@pytest.mark.parametrize("model", list(APP_ADMINS), ids=lambda model: model.__name__)
def test_a_member_of_shop_a_sees_none_of_shop_b(model, shops, staff_a):
    a, b = shops
    response = staff_a.get(_url(model, "changelist"))
    assert response.status_code == 200
    listed = {row.pk for row in response.context["cl"].result_list}
    assert listed, "shop A's own rows are listed"
    assert listed <= set(rows_of(model, a).values_list("pk", flat=True))
    assert not listed & set(rows_of(model, b).values_list("pk", flat=True))
    assert "Shop B" not in response.content.decode()

    # By URL: B's rows are not found (Django's way: back to the index, "doesn't exist"), and a
    # POST to their page changes nothing.
    before = snapshot(model, b)
    for row in rows_of(model, b):
        page = staff_a.get(_url(model, "change", row.pk))
        assert page.status_code in (302, 404)
        if page.status_code == 302:
            assert page.url == reverse("admin:index")
        assert staff_a.post(_url(model, "change", row.pk), {"name": "taken"}).status_code in (302, 403, 404)
        assert staff_a.post(_url(model, "delete", row.pk), {"post": "yes"}).status_code in (302, 403, 404)
    assert snapshot(model, b) == before


@pytest.mark.parametrize("model", list(APP_ADMINS), ids=lambda model: model.__name__)
def test_actions_on_shop_b_ids_change_nothing(model, shops, staff_a, mailoutbox):
    a, b = shops
    model_admin = APP_ADMINS[model]
    request = RequestFactory().get("/")
    request.user = staff_a.get(_url(model, "changelist")).wsgi_request.user
    actions = list(model_admin.get_actions(request))
    before = {related: snapshot(related, b) for related in APP_ADMINS}
    ids = [str(pk) for pk in rows_of(model, b).values_list("pk", flat=True)]
    for action in actions:
        for confirm in ({}, {"post": "yes"}):
            response = staff_a.post(
                _url(model, "changelist"),
                {"action": action, "index": 0, ACTION_CHECKBOX_NAME: ids, **confirm},
            )
            assert response.status_code in (200, 302)
            assert "Shop B" not in response.content.decode()
    assert {related: snapshot(related, b) for related in APP_ADMINS} == before
    assert not [message for message in mailoutbox if b.domain in " ".join(message.to)]


def test_a_form_refuses_a_foreign_key_of_shop_b(shops, staff_a):
    a, b = shops
    # Adding a suppression for shop B: not a choice.
    response = staff_a.post(
        _url(Suppression, "add"), {"shop": b.pk, "email": "new@b.test", "reason": "bounced", "detail": ""}
    )
    assert response.status_code == 200
    assert "shop" in response.context["adminform"].form.errors
    assert not Suppression.objects.filter(email="new@b.test").exists()

    # Pinning shop B's product as an alternative on shop A's product page.
    product = Product.objects.filter(shop=a, alternative_overrides__isnull=False).get()
    foreign = Product.objects.filter(shop=b).first()
    page = staff_a.get(_url(Product, "change", product.pk))
    data = _posted(page) | {
        "alternative_overrides-0-alternative": str(foreign.pk),
    }
    before = list(AlternativeOverride.objects.order_by("pk").values_list("product", "alternative"))
    response = staff_a.post(_url(Product, "change", product.pk), data)
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert list(AlternativeOverride.objects.order_by("pk").values_list("product", "alternative")) == before


def _posted(page) -> dict:
    """The change form's values as the browser would post them (the admin form and inlines)."""
    data: dict = {}
    context = page.context
    form = context["adminform"].form
    for name in form.fields:
        value = form[name].value()
        if value is not None:
            data[name] = value
    for formset in context["inline_admin_formsets"]:
        formset = formset.formset
        for name, value in formset.management_form.initial.items():
            data[f"{formset.prefix}-{name}"] = value
        for inline_form in formset.forms:
            for name in inline_form.fields:
                value = inline_form[name].value()
                if value not in (None, False):
                    data[inline_form.add_prefix(name)] = value
    return data


def test_every_foreign_key_on_an_admin_form_offers_only_the_users_shops(shops, staff_a):
    a, b = shops
    request = staff_a.get(reverse("admin:index")).wsgi_request
    checked = 0
    for model, model_admin in APP_ADMINS.items():
        obj = rows_of(model, a).first()
        forms = [model_admin.get_form(request, obj)]
        forms += [
            inline.get_formset(request, obj).form for inline in model_admin.get_inline_instances(request, obj)
        ]
        if model_admin.has_add_permission(request):
            forms.append(model_admin.get_form(request, None))
        for form in forms:
            for name, field in form.base_fields.items():
                if isinstance(field, ModelChoiceField):
                    checked += 1
                    for choice in field.queryset:
                        assert shop_id_of(choice) in (a.pk, None), (model.__name__, name, choice)
    assert checked >= 2  # the suppression's shop, the pinned alternative at least


def test_autocomplete_returns_no_row_of_shop_b(shops, staff_a):
    a, b = shops
    asked = 0
    for source in APP_ADMINS:
        for field in source._meta.get_fields():
            remote = getattr(field, "remote_field", None)
            if not field.is_relation or not field.many_to_one or remote is None:
                continue
            target_admin = APP_ADMINS.get(remote.model)
            if target_admin is None or not target_admin.search_fields:
                continue
            response = staff_a.get(
                reverse("admin:autocomplete"),
                {"app_label": "backorders", "model_name": source._meta.model_name, "field_name": field.name},
            )
            assert response.status_code == 200, (source.__name__, field.name)
            found = {int(result["id"]) for result in response.json()["results"]}
            assert found, (source.__name__, field.name)
            assert not found & set(rows_of(remote.model, b).values_list("pk", flat=True))
            asked += 1
    assert asked >= 5


def test_a_viewer_sees_shop_a_and_changes_nothing(shops, client, django_user_model, mailoutbox):
    a, b = shops
    client.force_login(member(django_user_model, a, Membership.Role.VIEWER, "viewer-a"))
    before = {model: snapshot(model, a) for model in APP_ADMINS}
    for model, model_admin in APP_ADMINS.items():
        response = client.get(_url(model, "changelist"))
        assert response.status_code == 200
        assert response.context["cl"].result_count > 0, model.__name__
        form = response.context["action_form"]
        offered = {name for name, _label in form.fields["action"].choices if name} if form else set()
        assert offered <= set(getattr(model_admin, "read_actions", ())), model.__name__  # exports only
        row = rows_of(model, a).first()
        assert client.get(_url(model, "change", row.pk)).status_code == 200
        assert client.post(_url(model, "change", row.pk), {"name": "taken"}).status_code == 403
        for action in type(model_admin).actions or []:
            client.post(
                _url(model, "changelist"),
                {"action": action, "index": 0, ACTION_CHECKBOX_NAME: [row.pk], "post": "yes"},
            )
    backorder = Backorder.objects.filter(shop=a, status=Backorder.Status.WAITING).first()
    assert (
        client.post(
            reverse("admin:backorders_backorder_move_eta", args=[backorder.pk]), {"eta": ""}
        ).status_code
        == 403
    )
    assert {model: snapshot(model, a) for model in APP_ADMINS} == before
    assert not mailoutbox


def test_a_superuser_sees_both_shops(shops, admin_client):
    for model in APP_ADMINS:
        listed = admin_client.get(_url(model, "changelist")).context["cl"].result_list
        assert {shop_id_of(row, APP_ADMINS[model].shop_path) for row in listed} >= {shop.pk for shop in shops}


def test_custom_pages_show_only_the_users_shops(shops, staff_a):
    a, b = shops
    funnel = staff_a.get(reverse("admin:backorders_restockalert_funnel"))
    assert funnel.status_code == 200
    assert {row["variant"].shop_id for row in funnel.context["rows"]} == {a.pk}
    assert list(funnel.context["shops"]) == [a]
    assert staff_a.get(reverse("admin:backorders_restockalert_funnel"), {"shop": b.pk}).status_code == 404

    preview = staff_a.get(reverse("admin:backorders_notification_preview_kind", args=["confirmation", "en"]))
    assert preview.status_code == 200
    assert "Shop A" in preview.content.decode() and "Shop B" not in preview.content.decode()

    request = CustomerDataRequest.objects.get(shop=b)
    assert (
        staff_a.get(reverse("admin:backorders_customerdatarequest_export", args=[request.pk])).status_code
        == 404
    )
    own = CustomerDataRequest.objects.get(shop=a)
    assert (
        staff_a.get(reverse("admin:backorders_customerdatarequest_export", args=[own.pk])).status_code == 200
    )

    backorder = Backorder.objects.filter(shop=b).first()
    assert staff_a.get(reverse("admin:backorders_backorder_move_eta", args=[backorder.pk])).status_code == 404


def test_only_superusers_add_shops_or_see_memberships_and_only_owners_change_settings(
    shops, client, django_user_model
):
    a, b = shops
    client.force_login(member(django_user_model, a, Membership.Role.STAFF, "staff-only"))
    assert client.get(_url(Shop, "add")).status_code == 403
    page = client.get(_url(Shop, "change", a.pk))
    assert page.status_code == 200 and not page.context["has_change_permission"]
    assert "memberships-TOTAL_FORMS" not in page.content.decode()

    owner = member(django_user_model, a, Membership.Role.OWNER, "owner-a")
    client.force_login(owner)
    page = client.get(_url(Shop, "change", a.pk))
    assert page.context["has_change_permission"]
    assert "memberships-TOTAL_FORMS" not in page.content.decode()
    assert client.get(_url(Shop, "change", b.pk)).status_code == 302
