"""``backorders_send_webhook``: a real HTTP round trip against a live server."""

import io

import pytest
from django.core.management import CommandError, call_command

from backorders.models import Product, WebhookDelivery
from tests.conftest import FIXTURES, URL

pytestmark = pytest.mark.django_db(transaction=True)


def send(live_server, shop, *args: str, **options):
    out = io.StringIO()
    options = {"url": live_server.url + URL, "shop": shop.domain, "topic": "products/create", **options}
    call_command("backorders_send_webhook", *args, stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue()


@pytest.mark.smoke
def test_the_command_signs_and_posts_a_file_like_the_platform(live_server, shop):
    output = send(live_server, shop, str(FIXTURES / "products_create.json"))

    assert output.startswith("200 OK")
    delivery = WebhookDelivery.objects.get()
    assert delivery.body.encode() == (FIXTURES / "products_create.json").read_bytes()
    assert delivery.status == WebhookDelivery.Status.PROCESSED
    assert Product.objects.get().title == "Ceramic Mug"


def test_a_repeated_webhook_id_is_accepted_once(live_server, shop):
    for _ in range(2):
        send(live_server, shop, str(FIXTURES / "products_create.json"), webhook_id="fixed-id")
    assert WebhookDelivery.objects.count() == 1


def test_a_refused_delivery_fails_the_command(live_server, shop):
    with pytest.raises(CommandError, match="answered 401"):
        send(live_server, shop, str(FIXTURES / "products_create.json"), secret="wrong")
    assert not WebhookDelivery.objects.exists()


def test_the_shops_own_secret_is_used_when_this_database_knows_it(live_server, shop):
    shop.webhook_secret = "custom-app-secret"
    shop.save()
    assert send(live_server, shop, str(FIXTURES / "products_create.json")).startswith("200")


def test_a_redirect_is_a_failure_not_followed(live_server, shop):
    with pytest.raises(CommandError, match="answered 30.*redirect"):
        send(live_server, shop, str(FIXTURES / "products_create.json"), url=live_server.url + "/admin")


def test_a_missing_file_is_a_clear_error(live_server, shop):
    with pytest.raises(CommandError, match="Cannot read"):
        send(live_server, shop, "/nonexistent.json")


def test_an_unreachable_url_is_a_clear_error(shop):
    with pytest.raises(CommandError, match="Could not reach"):
        call_command(
            "backorders_send_webhook",
            str(FIXTURES / "products_create.json"),
            url="http://127.0.0.1:9/webhooks/shopify",
            shop=shop.domain,
            topic="products/create",
            timeout=2,
            stdout=io.StringIO(),
        )


def test_the_readme_example_works_as_written_against_the_demo(live_server, settings, tmp_path):
    """The README's round-trip command, run as printed (only the port differs) against a server
    verifying like ``make demo`` does (DEBUG: the demo webhook secret)."""
    import os
    import re
    import shlex
    import subprocess
    import sys
    from pathlib import Path

    from config import settings as project
    from tests.factories import ShopFactory

    settings.SHOPIFY_API_SECRET = project._DEMO_WEBHOOK_SECRET
    ShopFactory(domain="demo-store.myshopify.com")
    root = Path(__file__).resolve().parents[3]
    readme = (root / "README.md").read_text()
    block = re.search(
        r"```sh\n\s*(DEBUG=true \.venv/bin/python manage\.py backorders_send_webhook.*?)```", readme, re.S
    )
    assert block, "the README's backorders_send_webhook example"
    words = shlex.split(block.group(1).replace("\\\n", " "))
    env = {key: os.environ[key] for key in ("PATH", "HOME") if key in os.environ}
    while "=" in words[0]:
        key, value = words.pop(0).split("=", 1)
        env[key] = value
    assert words[0] == ".venv/bin/python"
    words[0] = sys.executable
    words = [word.replace("http://127.0.0.1:8000", live_server.url) for word in words]
    env["DATABASE_URL"] = (
        f"sqlite:///{tmp_path / 'elsewhere.sqlite3'}"  # the command's own side knows no shop
    )

    result = subprocess.run(words, cwd=root, env=env, capture_output=True, text=True, timeout=60, check=False)

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("200 OK")
    assert Product.objects.get().title == "Ceramic Mug"
