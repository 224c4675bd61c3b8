"""The backorder list at a glance and the backorder's page: columns, filters (refusing unknown
values with a message), flagged and overdue first, search, labels instead of codes, and "move
the ETA" through its service."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from backorders.models import Backorder, Event, Notification
from backorders.services.audit import Actor
from backorders.services.catalog import variant_set_policy

LIST = "admin:backorders_backorder_changelist"


@pytest.fixture(autouse=True)
def _plain_http(settings):
    settings.SECURE_SSL_REDIRECT = False


def listed(admin_client, **params) -> list[Backorder]:
    response = admin_client.get(reverse(LIST), params)
    assert response.status_code == 200, response.content.decode()[:500]
    return list(response.context["cl"].result_list)


def test_the_list_shows_who_waits_for_what_how_long_and_until_when(admin_client, attention_queue):
    html = admin_client.get(reverse(LIST)).content.decode()

    for header in ("Order", "Customer", "Item", "Waiting / allocated", "Days waiting", "ETA", "Status"):
        assert header in html, header
    assert "customer1@example.com" in html and "MUG-1" in html and "Red mug" in html
    assert html.count('class="backorders-overdue"') == 2
    assert "Needs attention" in html
    assert "lead_time" not in html and ">manual<" not in html and ">waiting<" not in html


def test_flagged_then_overdue_come_first(admin_client, attention_queue):
    rows = listed(admin_client)

    assert rows[0].pk == attention_queue["flagged"]
    assert {rows[1].pk, rows[2].pk} == attention_queue["overdue"]


def test_the_filters_select_exactly_their_rows(admin_client, attention_queue):
    assert {bo.pk for bo in listed(admin_client, overdue="yes")} == attention_queue["overdue"]
    assert attention_queue["overdue"].isdisjoint(bo.pk for bo in listed(admin_client, overdue="no"))
    assert [bo.pk for bo in listed(admin_client, flagged__exact=1)] == [attention_queue["flagged"]]
    assert attention_queue["cancelled"] not in {bo.pk for bo in listed(admin_client, status="open")}
    assert [bo.pk for bo in listed(admin_client, status="cancelled")] == [attention_queue["cancelled"]]


def test_the_age_filter_counts_whole_days_waiting(admin_client, attention_queue, shop):
    now = timezone.now()
    Backorder.objects.update(queued_at=now - timedelta(hours=1))
    Backorder.objects.filter(pk=attention_queue["ahead"]).update(queued_at=now - timedelta(days=8, hours=1))
    Backorder.objects.filter(pk=attention_queue["flagged"]).update(
        queued_at=now - timedelta(days=61, hours=1)
    )

    assert [bo.pk for bo in listed(admin_client, age="8-14")] == [attention_queue["ahead"]]
    assert [bo.pk for bo in listed(admin_client, age="61-")] == [attention_queue["flagged"]]
    assert len(listed(admin_client, age="0-7")) == 2  # the two overdue; the cancelled one is closed
    assert listed(admin_client, age="15-30") == listed(admin_client, age="31-60") == []


@pytest.mark.parametrize(("param", "value"), [("status", "lost"), ("overdue", "maybe"), ("age", "1-2")])
def test_an_unknown_filter_value_is_refused_with_what_is_allowed(admin_client, attention_queue, param, value):
    response = admin_client.get(reverse(LIST), {param: value})

    assert response.status_code == 400
    assert "is not a value of the filter" in response.content.decode()


@pytest.mark.parametrize("query", ["#1001", "customer2@example.com", "CAP-1", "Blue cap"])
def test_search_finds_by_order_number_email_sku_and_product_title(admin_client, attention_queue, query):
    rows = listed(admin_client, q=query)

    assert rows
    for bo in rows:
        assert (
            query.lower()
            in " ".join([bo.order.number, bo.order.email, bo.variant.sku, bo.variant.product.title]).lower()
        )


def test_the_list_speaks_german_with_labels_for_every_code(admin_client, attention_queue):
    html = admin_client.get(reverse(LIST), HTTP_ACCEPT_LANGUAGE="de").content.decode()

    assert "Tage wartend" in html and "überfällig" in html
    assert "lead_time" not in html and ">manual<" not in html


def test_the_page_shows_the_customer_the_trail_and_the_actions_its_state_allows(
    admin_client, attention_queue
):
    waiting = Backorder.objects.get(pk=attention_queue["ahead"])
    allocated = Backorder.objects.get(pk=attention_queue["flagged"])
    cancelled = Backorder.objects.get(pk=attention_queue["cancelled"])

    html = admin_client.get(reverse("admin:backorders_backorder_change", args=[waiting.pk])).content.decode()
    assert waiting.order.email in html
    assert "Created" in html  # the audit trail
    assert 'id="backorder-move-eta"' in html and 'id="backorder-cancel"' in html
    assert 'id="backorder-ship"' not in html
    html = admin_client.get(
        reverse("admin:backorders_backorder_change", args=[allocated.pk])
    ).content.decode()
    assert 'id="backorder-ship"' in html and 'id="backorder-move-eta"' not in html
    html = admin_client.get(
        reverse("admin:backorders_backorder_change", args=[cancelled.pk])
    ).content.decode()
    assert "Cancelled" in html and "Changed their mind" in html
    assert 'id="backorder-cancel"' not in html and 'id="backorder-ship"' not in html


def test_cancel_from_the_page_asks_first_for_this_one_backorder(admin_client, attention_queue):
    waiting = Backorder.objects.get(pk=attention_queue["ahead"])

    response = admin_client.post(
        reverse(LIST), {"action": "cancel_backorders", "_selected_action": [waiting.pk]}
    )

    assert response.status_code == 200
    assert "Yes, cancel them" in response.content.decode()
    assert list(response.context["cancellable"]) == [waiting]
    waiting.refresh_from_db()
    assert waiting.status == Backorder.Status.WAITING


def move_url(backorder) -> str:
    return reverse("admin:backorders_backorder_move_eta", args=[backorder.pk])


def test_moving_the_eta_is_audited_pinned_and_emails_the_customer(admin_client, attention_queue, shop):
    backorder = Backorder.objects.get(pk=attention_queue["ahead"])
    # The customer's confirmation left (the test transaction never commits to send it).
    Notification.objects.filter(kind="confirmation").update(status="sent", sent_at=timezone.now())
    new = attention_queue["today"] + timedelta(days=40)

    assert admin_client.get(move_url(backorder)).status_code == 200
    response = admin_client.post(move_url(backorder), {"eta": new.isoformat(), "note": "Supplier  late"})

    assert response.status_code == 302
    backorder.refresh_from_db()
    assert (backorder.eta, backorder.eta_source, backorder.eta_pinned) == (new, "manual", True)
    event = Event.objects.filter(backorder=backorder, kind="eta_changed").get()
    assert (event.actor_kind, event.actor_name, event.eta_to, event.note) == (
        "admin",
        "admin",
        new,
        "Supplier late",
    )
    email = Notification.objects.get(kind="eta_changed", order=backorder.order)
    assert email.status in ("pending", "sent")
    # A later restock date for the whole variant leaves the owner's date for this customer.
    variant_set_policy(
        variant=backorder.variant, actor=Actor.admin("admin"), restock_date=attention_queue["today"]
    )
    backorder.refresh_from_db()
    assert backorder.eta == new


def test_handing_the_eta_back_to_the_estimate_unpins_it(admin_client, attention_queue):
    backorder = Backorder.objects.get(pk=attention_queue["ahead"])
    admin_client.post(
        move_url(backorder), {"eta": (attention_queue["today"] + timedelta(days=9)).isoformat()}
    )

    admin_client.post(move_url(backorder), {"eta": ""})

    backorder.refresh_from_db()
    assert backorder.eta_pinned is False
    assert backorder.eta_source != "manual" or backorder.variant.restock_date is not None


@pytest.mark.parametrize(
    ("value", "message"),
    [("yesterday", "Enter a valid date"), ("past", "is in the past"), ("far", "days from today")],
)
def test_a_bad_eta_is_refused_on_the_form_and_nothing_changes(admin_client, attention_queue, value, message):
    backorder = Backorder.objects.get(pk=attention_queue["ahead"])
    before = (backorder.eta, backorder.eta_pinned)
    dates = {
        "yesterday": "not-a-date",
        "past": (attention_queue["today"] - timedelta(days=1)).isoformat(),
        "far": (attention_queue["today"] + timedelta(days=800)).isoformat(),
    }

    response = admin_client.post(move_url(backorder), {"eta": dates[value]})

    assert response.status_code == 400
    assert message in response.content.decode()
    backorder.refresh_from_db()
    assert (backorder.eta, backorder.eta_pinned) == before
    assert not Event.objects.filter(backorder=backorder, kind="eta_changed").exists()


def test_an_allocated_backorder_has_no_eta_to_move(admin_client, attention_queue):
    allocated = Backorder.objects.get(pk=attention_queue["flagged"])

    response = admin_client.post(
        move_url(allocated), {"eta": (attention_queue["today"] + timedelta(days=3)).isoformat()}
    )

    assert response.status_code == 400
    assert "Only a backorder waiting for stock" in response.content.decode()
    allocated.refresh_from_db()
    assert allocated.eta_pinned is False


def test_a_note_longer_than_its_column_is_refused(admin_client, attention_queue):
    backorder = Backorder.objects.get(pk=attention_queue["ahead"])

    response = admin_client.post(
        move_url(backorder),
        {"eta": (attention_queue["today"] + timedelta(days=3)).isoformat(), "note": "x" * 256},
    )

    assert response.status_code == 400


def test_staff_who_may_not_see_the_backorder_cannot_move_its_eta(client, django_user_model, attention_queue):
    staff = django_user_model.objects.create_user("helper", password="a-long-pass-phrase-1", is_staff=True)
    client.force_login(staff)
    backorder = Backorder.objects.get(pk=attention_queue["ahead"])

    response = client.post(
        move_url(backorder), {"eta": (attention_queue["today"] + timedelta(days=3)).isoformat()}
    )

    assert response.status_code in (403, 404)
    backorder.refresh_from_db()
    assert backorder.eta_pinned is False


def test_the_list_queries_do_not_grow_with_rows(admin_client, attention_queue, django_assert_max_num_queries):
    for params in ({}, {"overdue": "yes", "status": "open", "age": "0-7", "q": "mug"}):
        with django_assert_max_num_queries(10):
            assert admin_client.get(reverse(LIST), params).status_code == 200
