"""The dashboard and the backorder list cost the same number of queries at 100,000 backorders
(PostgreSQL: the database the numbers matter on)."""

import pytest
from django.urls import reverse

pytestmark = [pytest.mark.postgres]


def test_dashboard_and_list_queries_are_bounded_at_100k_backorders(
    admin_client, shop, many_backorders, django_assert_max_num_queries
):
    assert many_backorders(100_000) == 100_000

    with django_assert_max_num_queries(15):
        response = admin_client.get(reverse("admin:index"))
    assert response.status_code == 200
    tiles = {tile["id"]: tile["value"] for tile in response.context["tiles"]}
    waiting = sum(1 for i in range(100_000) if i % 6 < 3)  # the builder's status mix
    assert tiles["units-waiting"] == 2 * waiting  # 2 units each
    assert tiles["overdue"] > 0
    assert sum(bar.value for bar in response.context["age_chart"].bars) == 2 * waiting

    for params in ({}, {"overdue": "yes", "status": "open"}, {"age": "31-60", "flagged__exact": "1"}):
        with django_assert_max_num_queries(10):
            listed = admin_client.get(reverse("admin:backorders_backorder_changelist"), params)
        assert listed.status_code == 200
        assert listed.context["cl"].result_count > 0
