"""The API docs (/api/docs/) in Chromium: Swagger UI renders every storefront operation from our
own static files, under the page CSP, with no request leaving the host (it works offline)."""

import pytest

from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_api_docs_render_offline_with_no_csp_violation(page, site):
    elsewhere: list[str] = []
    page.on(
        "request",
        lambda request: None if request.url.startswith(site.url) else elsewhere.append(request.url),
    )
    page.goto("/api/docs/")
    page.wait_for_selector(".swagger-ui .opblock-summary", state="visible")
    summaries = page.locator(".opblock-summary-path").all_inner_texts()
    text = " ".join(summaries).replace("\u200b", "")
    assert "/api/v1/storefront/{shop}/products/{ref}/availability" in text
    assert "/api/v1/storefront/{shop}/quote" in text
    # Open one operation: its documented responses (200, 400, 404, 429) and field descriptions show.
    page.locator(".opblock-summary", has_text="quote").first.click()
    page.wait_for_selector(".responses-table")
    responses = page.locator(".responses-table .response-col_status").all_inner_texts()
    assert {"200", "400", "404", "429"} <= {code.strip() for code in responses}
    screenshot(page, "api-docs")
    assert elsewhere == []
    assert page.problems == []
