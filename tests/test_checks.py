"""A host project that installs the app: a missing secret is a clear refusal and a check error,
and a beat schedule without the app's periodic tasks is a check warning."""

import pytest
from django.core.checks import run_checks
from django.test import override_settings

from backorders.beat import beat_schedule, periodic_task_names
from backorders.models import WebhookDelivery
from backorders.platforms.shopify.verification import app_secrets
from backorders.selectors.webhooks import webhook_rejection_counts

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("app_secrets")]


def check_ids() -> list[str]:
    return [message.id for message in run_checks(include_deployment_checks=True)]


@pytest.fixture
def host_without_secret(settings):
    """A host project's settings that never mention SHOPIFY_API_SECRET(_PREVIOUS)."""
    del settings.SHOPIFY_API_SECRET
    del settings.SHOPIFY_API_SECRET_PREVIOUS
    return settings


def test_without_the_secret_setting_a_webhook_is_401_saying_which_secret_to_configure(
    host_without_secret, deliver
):
    response = deliver("products/create", "products_create")

    assert response.status_code == 401
    answer = response.json()
    assert answer["error"] == "no_secret"
    assert "SHOPIFY_API_SECRET" in answer["detail"] and "--secret" in answer["detail"]
    assert webhook_rejection_counts()["no_secret"] == 1
    assert not WebhookDelivery.objects.exists()


def test_the_secret_accessor_defaults_to_empty(host_without_secret):
    assert app_secrets() == ("", "")


def test_without_any_secret_the_deployment_check_is_an_error(host_without_secret, shop):
    [error] = [
        message for message in run_checks(include_deployment_checks=True) if message.id == "backorders.E003"
    ]
    assert error.is_serious()
    assert "No webhook secret is configured" in error.msg
    assert "SHOPIFY_API_SECRET" in error.hint


def test_a_shop_with_its_own_secret_is_enough_for_the_check(host_without_secret, shop):
    shop.webhook_secret = "custom-app-secret"
    shop.save()
    assert "backorders.E003" not in check_ids()


def test_the_secret_setting_satisfies_the_check(settings, shop):
    settings.SHOPIFY_API_SECRET = "client-secret"
    assert "backorders.E003" not in check_ids()


def test_the_secret_check_does_not_fail_before_the_shops_table_exists(host_without_secret, shop, monkeypatch):
    from django.db import ProgrammingError

    from backorders.models import Shop

    shop.webhook_secret = "custom-app-secret"
    shop.save()

    def missing_table(*args, **kwargs):
        raise ProgrammingError('relation "backorders_shop" does not exist')

    monkeypatch.setattr(Shop.objects, "exclude", missing_table)
    assert "backorders.E003" in check_ids()  # the setting alone decides then


def test_the_projects_own_settings_run_every_periodic_task_of_the_app():
    assert "backorders.W002" not in check_ids()


@override_settings(CELERY_BEAT_SCHEDULE={})
def test_a_beat_schedule_without_the_apps_tasks_is_a_warning_naming_them():
    [warning] = [message for message in run_checks() if message.id == "backorders.W002"]
    assert "backorders.tasks.notifications_sweep_task" in warning.msg
    assert "backorders.tasks.webhook_deliveries_sweep_task" in warning.msg
    assert "beat_schedule()" in warning.hint


def test_a_host_schedule_missing_one_task_names_only_that_one():
    schedule = beat_schedule()
    del schedule["backorders-owner-digests"]
    schedule["host-task"] = {"task": "host.tasks.nightly", "schedule": 3600.0}
    with override_settings(CELERY_BEAT_SCHEDULE=schedule):
        [warning] = [message for message in run_checks() if message.id == "backorders.W002"]
    assert "owner_digests_task" in warning.msg
    assert "sweep" not in warning.msg


def test_the_shipped_schedule_names_real_tasks_and_is_a_fresh_copy():
    from celery import current_app

    import backorders.tasks  # noqa: F401  (registers the tasks)

    assert periodic_task_names() <= set(current_app.tasks)
    first = beat_schedule()
    first.clear()
    assert beat_schedule()
