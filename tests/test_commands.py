"""The management commands: connecting a shop, and the demo seed."""

import io
import logging

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from backorders.models import (
    Backorder,
    Event,
    InventoryLevel,
    Location,
    Order,
    OrderLine,
    Product,
    Shop,
    Variant,
)
from backorders.selectors.availability import AvailabilityState, availability_state

pytestmark = pytest.mark.django_db

DOMAIN = "tide-and-twine.myshopify.com"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The seed creates a superuser each time; the production hasher would take half a second.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def add_shop(*args: str, **options: object) -> str:
    out = io.StringIO()
    call_command("backorders_add_shop", *args, stdout=out, **options)
    return out.getvalue()


def seed() -> str:
    out = io.StringIO()
    call_command("backorders_seed_demo", force=True, stdout=out)
    return out.getvalue()


# backorders_add_shop


def test_add_shop_creates_then_updates_the_same_shop():
    output = add_shop(DOMAIN, name="Tide & Twine", email="owner@tideandtwine.example")

    assert output.startswith(f"Created shop {DOMAIN}")
    shop = Shop.objects.get()
    assert (shop.domain, shop.name, shop.owner_email) == (
        DOMAIN,
        "Tide & Twine",
        "owner@tideandtwine.example",
    )

    output = add_shop(
        DOMAIN,
        name="Tide and Twine",
        email="hello@tideandtwine.example",
        language="de",
        timezone="Europe/Berlin",
        currency="eur",
    )

    assert output.startswith(f"Updated shop {DOMAIN}")
    shop = Shop.objects.get()
    assert shop.name == "Tide and Twine"
    assert shop.owner_email == "hello@tideandtwine.example"
    assert (shop.language, shop.timezone, shop.currency) == ("de", "Europe/Berlin", "EUR")


def test_add_shop_normalises_the_domain_so_a_second_run_updates():
    add_shop(DOMAIN, name="Tide & Twine", email="owner@tideandtwine.example")

    output = add_shop(f"  {DOMAIN.upper()} ", name="Tide & Twine", email="owner@tideandtwine.example")

    assert output.startswith("Updated shop")
    assert Shop.objects.count() == 1


def test_add_shop_keeps_the_secret_unless_given_and_an_empty_one_removes_it():
    add_shop(DOMAIN, name="Tide & Twine", email="owner@tideandtwine.example", secret="first-secret")
    add_shop(DOMAIN, name="Tide & Twine", email="owner@tideandtwine.example")
    assert Shop.objects.get().webhook_secret == "first-secret"

    add_shop(DOMAIN, name="Tide & Twine", email="owner@tideandtwine.example", secret="")
    assert Shop.objects.get().webhook_secret == ""


def test_add_shop_never_prints_the_secret():
    output = add_shop(DOMAIN, name="Tide & Twine", email="owner@tideandtwine.example", secret="hush-hush")

    assert "hush-hush" not in output


@pytest.mark.parametrize(
    "domain",
    ["not a domain", "shop_with_underscore.myshopify.com", "no-dot", "https://tide.myshopify.com", ""],
)
def test_add_shop_with_an_invalid_domain_fails_clearly_and_writes_nothing(domain):
    with pytest.raises(CommandError) as excinfo:
        add_shop(domain, name="Tide & Twine", email="owner@tideandtwine.example")

    message = str(excinfo.value)
    assert "was not saved" in message
    expected = "This field cannot be blank." if not domain else "Enter a lower-case host name"
    assert f"DOMAIN: {expected}" in message
    assert excinfo.value.returncode != 0  # manage.py exits with this status
    assert not Shop.objects.exists()


def test_add_shop_with_an_invalid_email_fails_clearly_and_writes_nothing():
    with pytest.raises(CommandError) as excinfo:
        add_shop(DOMAIN, name="Tide & Twine", email="not-an-email")

    assert "--email: Enter a valid email address." in str(excinfo.value)
    assert excinfo.value.returncode != 0
    assert not Shop.objects.exists()


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("language", "klingon", "--language: klingon is not a language the app ships"),
        ("language", "fr", "--language: fr is not a language the app ships"),  # in Django, not in the app
        ("currency", "XYZ1", "--currency: XYZ1 is not an ISO 4217 currency code"),
        ("currency", "ABC", "--currency: ABC is not an ISO 4217 currency code"),
    ],
)
def test_add_shop_with_a_language_or_currency_the_app_cannot_use_fails_naming_the_option(
    option, value, expected
):
    with pytest.raises(CommandError) as excinfo:
        add_shop(DOMAIN, name="Tide & Twine", email="owner@tideandtwine.example", **{option: value})

    message = str(excinfo.value)
    assert expected in message
    if option == "language":
        assert "Choose one of: en, de." in message
    assert excinfo.value.returncode != 0
    assert not Shop.objects.exists()


def test_a_shops_languages_are_the_projects_languages_the_app_has_translations_for(settings):
    from backorders.models.shops import language_choices

    settings.LANGUAGES = [("en", "English"), ("fr", "Français"), ("de-at", "Österreichisches Deutsch")]
    assert [code for code, _name in language_choices()] == ["en", "de-at"]


def test_add_shop_reports_every_wrong_value_at_once():
    with pytest.raises(CommandError) as excinfo:
        add_shop("bad domain", name="Tide & Twine", email="nope", timezone="Mars/Olympus_Mons")

    message = str(excinfo.value)
    assert "DOMAIN:" in message
    assert "--email:" in message
    assert "--timezone: Mars/Olympus_Mons is not a known time zone" in message


def test_add_shop_with_an_invalid_value_leaves_an_existing_shop_unchanged():
    add_shop(DOMAIN, name="Tide & Twine", email="owner@tideandtwine.example")

    with pytest.raises(CommandError):
        add_shop(DOMAIN, name="Renamed", email="broken")

    shop = Shop.objects.get()
    assert (shop.name, shop.owner_email) == ("Tide & Twine", "owner@tideandtwine.example")


def test_add_shop_requires_name_and_email():
    with pytest.raises(CommandError, match="--name"):
        add_shop(DOMAIN, email="owner@tideandtwine.example")
    with pytest.raises(CommandError, match="--email"):
        add_shop(DOMAIN, name="Tide & Twine")
    assert not Shop.objects.exists()


# backorders_seed_demo


def snapshot() -> dict[str, object]:
    """Row counts and every stock number the seed touches."""
    models = [Shop, Product, Variant, Location, InventoryLevel, Order, OrderLine, Backorder, Event]
    return {
        "counts": {model.__name__: model.objects.count() for model in models},
        "users": get_user_model().objects.count(),
        "variants": list(
            Variant.objects.order_by("pk").values_list("pk", "available", "units_waiting", "units_allocated")
        ),
        "levels": list(InventoryLevel.objects.order_by("pk").values_list("pk", "available")),
        "backorders": list(
            Backorder.objects.order_by("pk").values_list(
                "pk", "quantity", "quantity_allocated", "status", "eta"
            )
        ),
    }


@pytest.mark.smoke
def test_seed_demo_is_idempotent():
    first_output = seed()
    first = snapshot()

    second_output = seed()

    assert snapshot() == first
    assert "(34 new)" in first_output
    assert "(0 new)" in second_output


@pytest.mark.smoke
def test_seed_demo_run_again_keeps_a_customers_cancellation():
    from backorders.models import Notification
    from backorders.services.audit import Actor
    from backorders.services.lifecycle import backorder_cancel

    seed()
    waiting = Backorder.objects.filter(status=Backorder.Status.WAITING).order_by("pk").first()
    backorder_cancel(backorder=waiting, actor=Actor.customer(waiting.order.email))
    before, emails = snapshot(), Notification.objects.count()
    seed()
    waiting.refresh_from_db()
    assert waiting.status == Backorder.Status.CANCELLED
    assert snapshot() == before
    assert Notification.objects.count() == emails


@pytest.mark.smoke
def test_seed_demo_shows_every_state_and_backorders_in_each_status():
    seed()

    shop = Shop.objects.get(domain="demo-store.myshopify.com")
    assert shop.name == "Demo Store"
    assert Product.objects.filter(shop=shop).count() >= 30
    assert Product.objects.values("product_type").distinct().count() >= 5
    assert Product.objects.values("vendor").distinct().count() >= 5
    states = {availability_state(v) for v in Variant.objects.select_related("product", "shop")}
    assert states == set(AvailabilityState)
    backorders = Backorder.objects.filter(shop=shop)
    assert backorders.filter(status=Backorder.Status.WAITING).exists()
    assert backorders.filter(status=Backorder.Status.ALLOCATED).exists()
    assert backorders.filter(flagged=True).exists()
    assert Location.objects.filter(shop=shop).count() == 2


@pytest.mark.smoke
def test_seed_demo_has_the_product_the_readme_names_for_each_state():
    from backorders.management.commands._demo_catalog import STATE_EXAMPLES
    from backorders.selectors.availability import backorder_room, policy_resolve

    output = seed()

    def states_of(handle):
        variants = Variant.objects.filter(product__handle=handle).select_related("product", "shop")
        return {availability_state(v) for v in variants}, list(variants)

    expected = {
        "in_stock": AvailabilityState.IN_STOCK,
        "low_stock": AvailabilityState.LOW_STOCK,
        "backorder": AvailabilityState.BACKORDER,
        "over_limit": AvailabilityState.OUT_OF_STOCK,
        "out_of_stock": AvailabilityState.OUT_OF_STOCK,
        "discontinued": AvailabilityState.DISCONTINUED,
    }
    for name, handle in STATE_EXAMPLES.items():
        states, variants = states_of(handle)
        assert states == {expected[name]}, (name, handle, states)
        assert f"/store/products/{handle}/" in output
    _, [over_limit] = states_of(STATE_EXAMPLES["over_limit"])
    policy = policy_resolve(over_limit)
    assert policy.backorderable and backorder_room(over_limit, policy) == 0  # over, not "deny"
    _, [out] = states_of(STATE_EXAMPLES["out_of_stock"])
    assert not policy_resolve(out).backorderable
    _, [backorder] = states_of(STATE_EXAMPLES["backorder"])
    assert backorder.restock_date is not None  # "ships by <date>": a manual ETA


def test_seed_demo_creates_a_working_admin_login_and_prints_it():
    output = seed()

    user = get_user_model().objects.get(username="demo")
    assert user.is_superuser and user.is_staff and user.is_active
    assert user.check_password("demo-password-123")
    assert "demo / demo-password-123" in output
    assert "http://127.0.0.1:8000/admin/" in output


def test_seed_demo_resets_the_demo_login_on_a_second_run():
    seed()
    user = get_user_model().objects.get(username="demo")
    user.set_password("something-else-entirely")
    user.is_superuser = False
    user.save()

    seed()

    user.refresh_from_db()
    assert user.is_superuser
    assert user.check_password("demo-password-123")


def test_seed_demo_keeps_the_owners_policy_edits_on_a_second_run():
    seed()
    variant = Variant.objects.get(sku="AT-CRD-CBL")
    Variant.objects.filter(pk=variant.pk).update(backorder_limit=12, restock_date=None)

    seed()

    variant.refresh_from_db()
    assert (variant.backorder_limit, variant.restock_date) == (12, None)


def test_seed_demo_refuses_to_run_without_debug(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="DEBUG=true"):
        call_command("backorders_seed_demo", stdout=io.StringIO())

    assert not Shop.objects.exists()
    assert not get_user_model().objects.exists()


def test_seed_demo_without_a_broker_logs_no_warning(caplog, django_capture_on_commit_callbacks):
    """Tasks run in-process without CELERY_BROKER_URL; Celery still takes a broker connection to
    run them eagerly, which must not be a (warned-about) connection to amqp://localhost."""
    from celery import current_app
    from kombu import pools

    assert current_app.conf.task_always_eager
    current_app._pool = None  # a fresh connection, as in a new process
    current_app.amqp._producer_pool = None
    pools.reset()
    with caplog.at_level("WARNING"), django_capture_on_commit_callbacks(execute=True) as callbacks:
        seed()
    assert callbacks  # the seed's emails were enqueued (and sent in-process)
    assert [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_add_shop_grants_and_revokes_roles():
    from backorders.models import Membership

    users = get_user_model().objects
    ada, bob = users.create_user("ada"), users.create_user("bob")

    output = add_shop(DOMAIN, "--grant", "ada:owner", "--grant", "bob:viewer", name="T", email="o@t.example")

    assert "Granted ada the role owner" in output and "Granted bob the role viewer" in output
    assert dict(Membership.objects.values_list("user__username", "role")) == {"ada": "owner", "bob": "viewer"}
    ada.refresh_from_db()
    assert ada.is_staff

    output = add_shop(DOMAIN, "--revoke", "bob", "--grant", "ada:staff", name="T", email="o@t.example")
    assert "Revoked bob's access" in output
    assert dict(Membership.objects.values_list("user__username", "role")) == {"ada": "staff"}
    assert bob.pk


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--grant", "nobody:staff"], "There is no user 'nobody'"),
        (["--grant", "ada:boss"], "'boss' is not a role; use one of: owner, staff, viewer"),
        (["--grant", "ada"], "write USER:ROLE"),
        (["--revoke", "nobody"], "There is no user 'nobody'"),
    ],
)
def test_add_shop_refuses_an_unknown_user_or_role_and_saves_nothing(option, message):
    from backorders.models import Membership

    get_user_model().objects.create_user("ada")
    with pytest.raises(CommandError, match=message):
        add_shop(DOMAIN, *option, name="T", email="o@t.example")
    assert not Shop.objects.exists()
    assert not Membership.objects.exists()
