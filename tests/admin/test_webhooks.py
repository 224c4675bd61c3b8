"""The webhook pages of the admin: deliveries (filter, read-only body, "process again"), refused
request counts, inventory waiting for its product, and customer data exports."""

import pytest
from django.urls import reverse

from backorders.models import CustomerDataRequest, PendingInventory, WebhookDelivery

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("app_secrets")]

Status = WebhookDelivery.Status


@pytest.fixture(autouse=True)
def _plain_http(settings):
    settings.SECURE_SSL_REDIRECT = False
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def changelist(model) -> str:
    return reverse(f"admin:backorders_{model._meta.model_name}_changelist")


def test_the_delivery_list_filters_by_shop_topic_and_status_and_shows_refusals(deliver, admin_client, shop):
    deliver("products/create", "products_create")
    deliver("orders/create", "orders_create", headers={"X-Shopify-Hmac-Sha256": "forged"})
    deliver("carts/update", {"id": 1})

    response = admin_client.get(
        changelist(WebhookDelivery), {"status": "ignored", "shop__id__exact": shop.pk}
    )
    assert response.status_code == 200
    assert response.context["cl"].result_count == 1
    assert (
        admin_client.get(changelist(WebhookDelivery), {"topic": "products/create"}).context["cl"].result_count
        == 1
    )
    assert "bad_signature: 1" in admin_client.get(changelist(WebhookDelivery)).content.decode()


def test_the_delivery_page_shows_the_body_read_only(deliver, admin_client):
    deliver("products/create", "products_create")
    delivery = WebhookDelivery.objects.get()

    response = admin_client.get(reverse("admin:backorders_webhookdelivery_change", args=[delivery.pk]))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Ceramic Mug" in page and "<textarea" not in page
    assert response.context["adminform"].form.fields == {}  # nothing editable
    assert admin_client.post(reverse("admin:backorders_webhookdelivery_add")).status_code == 403


def test_process_again_action_calls_the_service(deliver, admin_client, django_capture_on_commit_callbacks):
    deliver("orders/create", "orders_create")  # fails: the products are not known yet
    deliver("products/create", "products_create")
    failed = WebhookDelivery.objects.get(topic="orders/create")
    assert failed.status == Status.FAILED

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            changelist(WebhookDelivery),
            {"action": "process_again", "_selected_action": [failed.pk]},
            follow=True,
        )

    assert "1 delivery queued for processing." in response.content.decode()
    failed.refresh_from_db()
    assert failed.status == Status.PROCESSED


def test_a_waiting_delivery_cannot_be_deleted_but_a_finished_one_can(deliver, admin_client):
    deliver("products/create", "products_create", process=False)
    waiting = WebhookDelivery.objects.get()
    assert (
        admin_client.get(reverse("admin:backorders_webhookdelivery_delete", args=[waiting.pk])).status_code
        == 403
    )
    deliver("carts/update", {"id": 1})
    ignored = WebhookDelivery.objects.get(status=Status.IGNORED)
    assert (
        admin_client.get(reverse("admin:backorders_webhookdelivery_delete", args=[ignored.pk])).status_code
        == 200
    )


def test_the_pending_inventory_list_renders(deliver, admin_client):
    deliver("inventory_levels/update", "inventory_levels_update")
    assert PendingInventory.objects.count() == 1
    assert admin_client.get(changelist(PendingInventory)).context["cl"].result_count == 1


def test_a_data_request_export_downloads_as_json(deliver, admin_client):
    deliver("products/create", "products_create")
    deliver("orders/create", "orders_create")
    deliver("customers/data_request", "customers_data_request")
    request = CustomerDataRequest.objects.get()

    assert admin_client.get(changelist(CustomerDataRequest)).status_code == 200
    response = admin_client.get(reverse("admin:backorders_customerdatarequest_export", args=[request.pk]))

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="customer-data-9912345.json"'
    assert response.json()["orders"][0]["email"] == "jane.doe@example.com"


def test_staff_without_superuser_see_nothing(client, django_user_model, deliver):
    deliver("customers/data_request", "customers_data_request")
    user = django_user_model.objects.create_user("staff", password="x", is_staff=True)
    client.force_login(user)
    assert client.get(changelist(WebhookDelivery)).status_code == 403
    request = CustomerDataRequest.objects.get()
    assert client.get(
        reverse("admin:backorders_customerdatarequest_export", args=[request.pk])
    ).status_code in (
        302,
        403,
    )
