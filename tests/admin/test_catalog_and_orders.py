"""The admin: every page renders on the demo data, lists do not grow in queries, services own
the writes, and only superusers see anything (until per-shop staff scoping lands)."""

import io

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.db.models import Model
from django.urls import reverse

from backorders.models import Backorder, Event, InventoryLevel, Location, Order, Product, Shop, Variant

MODELS: list[type[Model]] = [Shop, Product, Variant, Location, InventoryLevel, Order, Backorder, Event]
# Rows only the platform or the services create: no add page, no delete.
SERVICE_OWNED = [Product, Variant, Location, InventoryLevel, Order, Backorder, Event]


MAX_CHANGELIST_QUERIES = 10


def url(model: type[Model], view: str, *args: object) -> str:
    return reverse(f"admin:backorders_{model._meta.model_name}_{view}", args=args)


@pytest.fixture(autouse=True)
def _plain_http(settings):
    # Production settings redirect to HTTPS (DEBUG is off in tests); the test client speaks HTTP.
    settings.SECURE_SSL_REDIRECT = False
    # Two superusers per test (the demo login and admin_client): hash their passwords cheaply.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def demo(db) -> Shop:
    call_command("backorders_seed_demo", force=True, stdout=io.StringIO())
    return Shop.objects.get(domain="demo-store.myshopify.com")


@pytest.mark.smoke
def test_every_changelist_and_change_page_renders_for_a_superuser(demo, admin_client):
    for model in MODELS:
        name = model._meta.model_name
        response = admin_client.get(url(model, "changelist"))
        assert response.status_code == 200, name
        assert response.context["cl"].result_count == model.objects.count() > 0, name

        # Searching exercises every search field's lookup.
        assert admin_client.get(url(model, "changelist"), {"q": "tee"}).status_code == 200, name

        response = admin_client.get(url(model, "change", model.objects.order_by("pk").last().pk))
        assert response.status_code == 200, name


@pytest.mark.smoke
def test_variant_changelist_shows_the_availability_state(demo, admin_client):
    response = admin_client.get(url(Variant, "changelist"), {"q": "AT-CRD-CBL"})

    assert response.status_code == 200
    assert "Out of stock" in response.content.decode()


@pytest.mark.parametrize(
    ("model", "filters"),
    [
        (Variant, {"inventory_policy__exact": "continue", "product__product_type": "Knitwear"}),
        (Backorder, {"status__exact": "waiting", "flagged__exact": "1"}),
    ],
    ids=["variant", "backorder"],
)
def test_changelist_queries_do_not_grow_with_rows(
    demo, admin_client, django_assert_max_num_queries, model, filters
):
    # Session, user, two counts, the page of rows and the filter sidebars: a constant whatever
    # the number of rows (the demo lists ~50 variants, so one query per row would blow it).
    for params in ({}, {"shop__id__exact": str(demo.pk), **filters}):
        with django_assert_max_num_queries(MAX_CHANGELIST_QUERIES):
            response = admin_client.get(url(model, "changelist"), params)
        assert response.status_code == 200
        assert response.context["cl"].result_count > 0


def test_service_owned_rows_cannot_be_added_or_deleted(demo, admin_client):
    for model in SERVICE_OWNED:
        name = model._meta.model_name
        obj = model.objects.order_by("pk").first()

        assert admin_client.get(url(model, "add")).status_code == 403, name
        assert admin_client.post(url(model, "delete", obj.pk), {"post": "yes"}).status_code == 403, name
        assert model.objects.filter(pk=obj.pk).exists(), name


def test_backorders_and_their_events_are_read_only(demo, admin_client):
    backorder = Backorder.objects.filter(status=Backorder.Status.WAITING).first()

    response = admin_client.get(url(Backorder, "change", backorder.pk))
    assert response.status_code == 200
    assert 'name="_save"' not in response.content.decode()
    assert "Created" in response.content.decode()  # the event trail is shown inline

    response = admin_client.post(
        url(Backorder, "change", backorder.pk), {"status": "cancelled", "quantity": 99}
    )
    assert response.status_code == 403
    backorder.refresh_from_db()
    assert backorder.status == Backorder.Status.WAITING
    assert admin_client.post(url(Event, "change", Event.objects.first().pk), {"note": "x"}).status_code == 403


def test_variant_policy_is_editable_but_counters_are_not(demo, admin_client):
    variant = Variant.objects.get(sku="NW-TEE-PKT-OLV")
    before = (variant.available, variant.units_waiting, variant.units_allocated)

    response = admin_client.post(
        url(Variant, "change", variant.pk),
        {
            "backorder_mode": "allow",
            "backorder_limit": "7",
            "restock_date": "2028-01-15",
            "restock_note": "Container delayed",
            "handling_days": "3",
            "low_stock_threshold": "",
            # Read-only fields: ignored even if posted.
            "available": "500",
            "units_waiting": "0",
            "units_allocated": "0",
        },
    )

    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    variant.refresh_from_db()
    assert (variant.backorder_mode, variant.backorder_limit, variant.handling_days) == ("allow", 7, 3)
    assert str(variant.restock_date) == "2028-01-15"
    assert (variant.available, variant.units_waiting, variant.units_allocated) == before


def posted_form(response) -> dict[str, object]:
    """What a browser would post back from a rendered change page: its form, inlines and their
    management forms, with the values shown."""
    data: dict[str, object] = {}
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        forms.append(formset.management_form)
        forms.extend(formset.forms)
    for form in forms:
        for bound in form:
            value = bound.value()
            if value is None or value is False:
                continue
            data[bound.html_name] = "on" if value is True else value
    return data


def test_product_page_saves_policy_of_product_and_its_variants_and_nothing_else(demo, admin_client):
    product = Product.objects.get(title="Lambswool Crew Sweater")
    variant = product.variants.get(sku="AT-SWT-LMB-S")
    counters = list(
        product.variants.order_by("pk").values_list("available", "units_waiting", "units_allocated")
    )
    page = admin_client.get(url(Product, "change", product.pk))
    data = posted_form(page)
    index = next(
        i
        for i, form in enumerate(page.context["inline_admin_formsets"][0].formset)
        if form.instance == variant
    )
    data |= {"handling_days": "4", f"variants-{index}-backorder_limit": "25", "title": "Renamed"}

    response = admin_client.post(url(Product, "change", product.pk), data)

    assert response.status_code == 302
    product.refresh_from_db()
    variant.refresh_from_db()
    assert product.handling_days == 4
    assert product.title == "Lambswool Crew Sweater"  # platform data is read-only
    assert variant.backorder_limit == 25
    assert list(
        product.variants.order_by("pk").values_list("available", "units_waiting", "units_allocated")
    ) == (counters)


def shop_form(**overrides: str) -> dict[str, str]:
    data = {
        "domain": "harbor-lights.myshopify.com",
        "name": "Harbor Lights",
        "owner_email": "owner@harborlights.example",
        "from_email": "",
        "is_active": "on",
        "language": "en",
        "timezone": "Europe/Berlin",
        "currency": "EUR",
        "webhook_secret": "",
        "backorder_mode": "allow",
        "backorder_limit": "",
        "handling_days": "2",
        "restock_lead_days": "",
        "low_stock_threshold": "",
        # The page's inline of memberships (who may work on the shop), empty.
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
    }
    return data | overrides


def test_shop_admin_saves_through_the_service_and_never_shows_the_secret(db, admin_client):
    response = admin_client.post(url(Shop, "add"), shop_form(webhook_secret="very-secret-value"))
    assert response.status_code == 302
    shop = Shop.objects.get(domain="harbor-lights.myshopify.com")
    assert (shop.backorder_mode, shop.handling_days, shop.webhook_secret) == ("allow", 2, "very-secret-value")

    page = admin_client.get(url(Shop, "change", shop.pk)).content.decode()
    assert "very-secret-value" not in page

    # An empty secret field keeps the stored secret; the domain cannot change.
    response = admin_client.post(
        url(Shop, "change", shop.pk), shop_form(name="Harbor Lights & Co", domain="other.myshopify.com")
    )
    assert response.status_code == 302
    shop.refresh_from_db()
    assert (shop.name, shop.domain, shop.webhook_secret) == (
        "Harbor Lights & Co",
        "harbor-lights.myshopify.com",
        "very-secret-value",
    )


def test_shop_admin_refuses_invalid_values_with_a_message(db, admin_client):
    response = admin_client.post(url(Shop, "add"), shop_form(domain="Not A Domain", timezone="Mars/Base"))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "domain" in errors and "timezone" in errors
    assert not Shop.objects.exists()


def test_staff_without_superuser_status_sees_no_shop_data(demo, client, django_user_model):
    # Without a membership, even every model permission reveals no shop (the scope, not Django's
    # permissions, opens the app's pages).
    staff = django_user_model.objects.create_user("staff", password="pw-for-tests-only", is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(content_type__app_label="backorders"))
    client.force_login(staff)

    for model in MODELS:
        assert client.get(url(model, "changelist")).status_code == 403
    index = client.get(reverse("admin:index")).content.decode()
    assert "app-backorders" not in index  # no app list entry (the header names the product)
    assert "Demo Store" not in index


def test_a_restock_date_set_in_the_admin_moves_waiting_etas_as_that_user(demo, admin_client):
    backorder = Backorder.objects.filter(status=Backorder.Status.WAITING).select_related("variant").first()
    variant = backorder.variant
    page = admin_client.get(url(Variant, "change", variant.pk))
    data = posted_form(page) | {"restock_date": "2028-01-15", "handling_days": "2"}

    assert admin_client.post(url(Variant, "change", variant.pk), data).status_code == 302

    backorder.refresh_from_db()
    assert (str(backorder.eta), backorder.eta_source) == ("2028-01-17", "manual")
    event = backorder.events.get(kind=Event.Kind.ETA_CHANGED, eta_to=backorder.eta)
    assert (event.actor_kind, event.actor_name) == ("admin", "admin")


def test_cancel_action_cancels_through_the_service_and_reports_refusals(demo, admin_client):
    waiting = Backorder.objects.filter(status=Backorder.Status.WAITING).order_by("pk").first()
    from backorders.services.audit import Actor
    from backorders.services.lifecycle import backorder_cancel

    closed = Backorder.objects.filter(status=Backorder.Status.WAITING).order_by("pk")[1]
    backorder_cancel(backorder=closed, actor=Actor.admin("someone"))

    selection = {"action": "cancel_backorders", "_selected_action": [waiting.pk, closed.pk]}
    page = admin_client.post(url(Backorder, "changelist"), selection).content.decode()
    # First a confirmation page: what will be cancelled, what cannot be, and the reason to send.
    assert "This backorder will be cancelled" in page and "Not cancelled" in page
    assert 'value="Cancelled by the shop."' in page
    assert f'name="_selected_action" value="{waiting.pk}"' in page  # the "yes" carries the selection
    assert f'name="_selected_action" value="{closed.pk}"' not in page and 'name="csrfmiddlewaretoken"' in page
    waiting.refresh_from_db()
    assert waiting.status == Backorder.Status.WAITING  # nothing happened yet

    response = admin_client.post(
        url(Backorder, "changelist"),
        {**selection, "post": "yes", "reason": "  Discontinued by the maker.\n "},
        follow=True,
    )
    text = response.content.decode()
    assert "1 backorder(s) cancelled; they are listed under" in text
    assert "cannot be cancelled" in text
    waiting.refresh_from_db()
    assert waiting.status == Backorder.Status.CANCELLED
    event = waiting.events.get(kind=Event.Kind.CANCELLED)
    assert (event.actor_kind, event.actor_name) == ("admin", "admin")
    assert event.note == "Discontinued by the maker."


def test_a_past_restock_date_is_a_form_error_on_that_field_and_nothing_is_saved_or_emailed(
    demo, admin_client, mailoutbox
):
    from backorders.models import Notification

    backorder = Backorder.objects.filter(status=Backorder.Status.WAITING).select_related("variant").first()
    variant = backorder.variant
    before = (variant.restock_date, variant.handling_days, backorder.eta)
    emails = Notification.objects.count()
    page = admin_client.get(url(Variant, "change", variant.pk))
    data = posted_form(page) | {"restock_date": "2020-01-01", "handling_days": "9"}

    response = admin_client.post(url(Variant, "change", variant.pk), data)

    assert response.status_code == 200
    [message] = response.context["adminform"].form.errors["restock_date"]
    assert "The restock date 2020-01-01 is in the past" in message
    variant.refresh_from_db()
    backorder.refresh_from_db()
    assert (variant.restock_date, variant.handling_days, backorder.eta) == before
    assert Notification.objects.count() == emails
    assert mailoutbox == []


def test_a_past_restock_date_on_the_product_page_is_an_error_on_that_variant_row(demo, admin_client):
    product = Product.objects.get(title="Lambswool Crew Sweater")
    page = admin_client.get(url(Product, "change", product.pk))
    data = posted_form(page) | {"variants-0-restock_date": "2020-01-01", "handling_days": "4"}

    response = admin_client.post(url(Product, "change", product.pk), data)

    assert response.status_code == 200
    [formset] = [f for f in response.context["inline_admin_formsets"] if f.formset.prefix == "variants"]
    assert "in the past" in str(formset.formset.forms[0].errors["restock_date"])
    product.refresh_from_db()
    assert product.handling_days != 4
    assert not product.variants.filter(restock_date="2020-01-01").exists()


def ship(admin_client, backorders, **extra):
    return admin_client.post(
        url(Backorder, "changelist"),
        {"action": "fulfil_backorders", "_selected_action": [bo.pk for bo in backorders], **extra},
        follow=True,
    )


def test_shipping_only_waiting_backorders_is_refused_with_a_message_and_changes_nothing(
    demo, admin_client, mailoutbox
):
    from backorders.models import Notification

    waiting = list(Backorder.objects.filter(status=Backorder.Status.WAITING).order_by("pk")[:2])
    emails, events = Notification.objects.count(), Event.objects.count()

    response = ship(admin_client, waiting)

    text = response.content.decode()
    assert "Nothing was marked as shipped" in text
    assert "can be marked as shipped once stock covers all of them" in text
    assert {bo.status for bo in Backorder.objects.filter(pk__in=[bo.pk for bo in waiting])} == {"waiting"}
    assert (Notification.objects.count(), Event.objects.count()) == (emails, events)
    assert mailoutbox == []


def test_shipping_asks_first_listing_what_is_shipped_and_emailed_and_what_is_refused(demo, admin_client):
    allocated = Backorder.objects.filter(status=Backorder.Status.ALLOCATED).select_related("order").first()
    waiting = Backorder.objects.filter(status=Backorder.Status.WAITING).order_by("pk").first()
    Order.objects.filter(pk=allocated.order_id).update(customer_name="<b>Ada</b>")
    events = Event.objects.count()

    response = ship(admin_client, [allocated, waiting])

    assert response.status_code == 200
    assert [bo.pk for bo in response.context["shippable"]] == [allocated.pk]
    [(refused, reason)] = response.context["refused"]
    assert refused.pk == waiting.pk and "are allocated" in reason
    page = response.content.decode()
    assert allocated.order.number in page and allocated.order.email in page
    assert "&lt;b&gt;Ada&lt;/b&gt;" in page and "<b>Ada</b>" not in page  # escaped
    assert f'name="_selected_action" value="{allocated.pk}"' in page
    assert f'name="_selected_action" value="{waiting.pk}"' not in page
    assert 'name="post" value="yes"' in page
    assert Event.objects.count() == events  # nothing happened yet
    allocated.refresh_from_db()
    assert allocated.status == Backorder.Status.ALLOCATED


def test_confirming_ships_allocated_backorders_through_the_service_and_refuses_any_other(
    demo, admin_client, django_capture_on_commit_callbacks
):
    from backorders.models import Notification

    allocated = Backorder.objects.filter(status=Backorder.Status.ALLOCATED).first()
    waiting = Backorder.objects.filter(status=Backorder.Status.WAITING).order_by("pk").first()

    with django_capture_on_commit_callbacks(execute=True):
        response = ship(admin_client, [allocated, waiting], post="yes")  # a forged or stale "yes"

    text = response.content.decode()
    assert "1 backorder(s) marked as shipped." in text
    assert "are allocated" in text
    allocated.refresh_from_db()
    waiting.refresh_from_db()
    assert (allocated.status, waiting.status) == (Backorder.Status.FULFILLED, Backorder.Status.WAITING)
    event = allocated.events.get(kind=Event.Kind.FULFILLED)
    assert (event.actor_kind, event.actor_name) == ("admin", "admin")
    assert Notification.objects.filter(order=allocated.order, kind="shipped").exists()
    assert not Notification.objects.filter(order=waiting.order, kind="shipped").exists()


def test_shop_admin_offers_only_shipped_languages_and_refuses_a_currency_that_is_not_iso_4217(
    db, admin_client
):
    page = admin_client.get(url(Shop, "add"))
    choices = page.context["adminform"].form.fields["language"].choices
    assert [value for value, _label in choices] == ["en", "de"]

    response = admin_client.post(url(Shop, "add"), shop_form(language="klingon", currency="XYZ"))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "language" in errors
    assert "not an ISO 4217 currency code" in str(errors["currency"])
    assert not Shop.objects.exists()

    assert admin_client.post(url(Shop, "add"), shop_form(language="de", currency="chf")).status_code == 302
    assert Shop.objects.values_list("language", "currency").get() == ("de", "CHF")


def test_the_admins_view_site_link_opens_the_demo_store(db, admin_client, settings):
    page = admin_client.get(reverse("admin:index")).content.decode()
    assert '<a href="/store/">View site</a>' in page
    settings.STORE_SHOP_DOMAIN = "acme.myshopify.com"
    from tests.factories import ShopFactory

    ShopFactory(domain="acme.myshopify.com")
    assert admin_client.get("/store/").status_code == 200  # it leads somewhere


def test_suppressions_are_added_lower_case_and_removed_through_the_outbox_services(admin_client, shop):
    from backorders.models import Suppression

    response = admin_client.post(
        "/admin/backorders/suppression/add/",
        {"shop": shop.pk, "email": " Ada@Example.COM ", "reason": "refused", "detail": "asked by phone"},
    )
    assert response.status_code == 302
    suppression = Suppression.objects.get()
    assert (suppression.email, suppression.reason) == ("ada@example.com", "refused")
    # The same address again is the same suppression, not a second row.
    admin_client.post(
        "/admin/backorders/suppression/add/",
        {"shop": shop.pk, "email": "ada@example.com", "reason": "refused"},
    )
    assert Suppression.objects.count() == 1
    assert admin_client.get(f"/admin/backorders/suppression/{suppression.pk}/change/").status_code == 200
    response = admin_client.post(f"/admin/backorders/suppression/{suppression.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302 and not Suppression.objects.exists()


def test_a_location_is_renamed_through_its_service(admin_client, shop):
    from backorders.models import Location

    location = Location.objects.create(shop=shop, platform_id=77, name="Old")
    response = admin_client.post(
        f"/admin/backorders/location/{location.pk}/change/", {"name": "  Main warehouse ", "is_active": ""}
    )
    assert response.status_code == 302
    location.refresh_from_db()
    assert (location.name, location.is_active) == ("Main warehouse", False)
