"""Schemathesis against the API's own OpenAPI schema: no 5xx, every answer as documented
(status, content type, body, headers), bad input refused with a 4xx and a message.

The examples are bounded (``max_examples``) so that the module runs in about a minute. A seeded
shop with products makes most generated paths resolve: a generated shop domain or product
reference is swapped for a real one in three cases out of four, so that the 200 answers are
fuzzed too, not only the 404s.
"""

import copy
import json

import pytest
import schemathesis
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance

from backorders.models import BackorderMode
from backorders.services.audit import Actor
from backorders.services.shops import api_token_create

pytestmark = [pytest.mark.django_db]

SHOP = "acme.myshopify.com"
# The seeded shop's management API key, as a header (set by the ``seeded`` fixture).
AUTHORIZATION: dict[str, str] = {}
REFS = ("red-mug", "123", "blue-mug")
VARIANT_IDS = (456, 457, 458)


@pytest.fixture
def seeded(shop, make_variant, monkeypatch):
    shop.backorder_mode = BackorderMode.ALLOW
    shop.save()
    make_variant(
        stock=0, product__handle="red-mug", product__platform_id=123, platform_id=456, backorder_limit=5
    )
    make_variant(stock=20, product__handle="blue-mug", platform_id=457)
    make_variant(stock=0, product__handle="gone", platform_id=458, backorder_mode=BackorderMode.DENY)
    key = api_token_create(shop=shop, name="fuzz", actor=Actor.system("test")).key
    monkeypatch.setitem(AUTHORIZATION, "header", f"Bearer {key}")
    return shop


class _Project:
    """The project as a WSGI app, its middleware built per request so that the test's settings
    (plain HTTP to the test host) apply."""

    def __call__(self, environ, start_response):
        return WSGIHandler()(environ, start_response)


@pytest.fixture
def served(seeded, settings):
    """Plain HTTP to any host name, and the test's database connection kept open across
    requests (as Django's test client does: the connection holds the test's transaction)."""
    settings.SECURE_SSL_REDIRECT = False
    settings.ALLOWED_HOSTS = ["*"]
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield seeded
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


# The schema as the project generates it (what /api/schema/ serves), calls through the WSGI app.
schema = schemathesis.openapi.from_dict(json.loads(json.dumps(SchemaGenerator().get_schema(public=True))))
schema.app = _Project()


def _aim(case) -> None:
    """Point three cases out of four at the seeded shop's real products and variants. The parts
    are assigned anew (not changed in place), so that schemathesis validates the case again and
    knows whether it is still a negative one."""
    seed = abs(hash(repr(case.path_parameters) + repr(case.body)))
    if seed % 4 == 0:
        return
    if case.path_parameters and "shop" in case.path_parameters:
        path = {**case.path_parameters, "shop": SHOP}
        if "ref" in path:
            path["ref"] = REFS[seed % len(REFS)]
        case.path_parameters = path
    if case.path_parameters and "variant_id" in case.path_parameters:
        case.path_parameters = {**case.path_parameters, "variant_id": VARIANT_IDS[seed % len(VARIANT_IDS)]}
    if case.path.startswith("/api/v1/manage/") and "Authorization" in (case.headers or {}):
        # The generated bearer key is random: use the shop's real one (a case without the header
        # stays without it, and must be refused).
        case.headers = {**case.headers, "Authorization": AUTHORIZATION["header"]}
    if isinstance(case.body, dict) and isinstance(case.body.get("lines"), list):
        body = copy.deepcopy(case.body)
        for n, line in enumerate(body["lines"]):
            if isinstance(line, dict) and isinstance(line.get("variant_id"), int):
                line["variant_id"] = VARIANT_IDS[(seed + n) % len(VARIANT_IDS)]
        case.body = body
    if isinstance(case.body, dict) and isinstance(case.body.get("items"), list):
        body = copy.deepcopy(case.body)
        for n, item in enumerate(body["items"]):
            if isinstance(item, dict) and isinstance(item.get("variant"), int):
                item["variant"] = VARIANT_IDS[(seed + n) % len(VARIANT_IDS)]
        case.body = body


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_answers_as_its_schema_says(case, served):
    cache.clear()  # the per-IP counters: the fuzzer is one address sending many requests
    _aim(case)
    # A well-formed request may still name a shop or product that does not exist (404): the
    # documented answer, so "valid input must be accepted" does not apply.
    response = case.call_and_validate(excluded_checks=[positive_data_acceptance])
    assert response.status_code < 500
    if 400 <= response.status_code < 500 and response.status_code not in (405, 406):
        body = response.json()
        assert body and all(body.values()), body  # a message for each refusal
