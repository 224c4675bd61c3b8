"""The owner sets a restock date for two variants at once in a real Chromium: the page says how
many customers' ETAs move and how many are emailed, the confirmation applies it, and the audit
trail and the delay emails are there to find."""

from datetime import date

import pytest
from django.core import mail

from backorders.models import Backorder, Event, Notification
from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RESTOCK = date(2027, 3, 1)
NEW = date(2027, 4, 15)


def test_the_owner_sets_a_restock_date_for_two_variants(page, site, django_user_model, make_variant, place):
    django_user_model.objects.create_superuser("owner", "owner@example.com", "a-long-pass-phrase-1")
    mug = make_variant(stock=0, inventory_policy="continue", restock_date=RESTOCK, product__title="Blue Mug")
    plate = make_variant(
        stock=0, inventory_policy="continue", restock_date=RESTOCK, product__title="Stone Plate"
    )
    untouched = make_variant(
        stock=0, inventory_policy="continue", restock_date=RESTOCK, product__title="Tea Bowl"
    )
    place({mug: 1, plate: 1}, accepted=True)  # one customer waiting for both: one email
    place({mug: 2}, accepted=True)
    place({untouched: 1}, accepted=True)
    assert len(mail.outbox) == 3  # the confirmations (told ETA 2 March)
    mail.outbox.clear()

    page.goto("/admin/login/")
    page.fill("#id_username", "owner")
    page.fill("#id_password", "a-long-pass-phrase-1")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin/")
    page.goto("/admin/backorders/variant/")
    for variant in (mug, plate):
        page.locator(f'#result_list input.action-select[value="{variant.pk}"]').check()
    page.select_option("select[name=action]", "set_restock_date")
    page.get_by_role("button", name="Go").click()
    page.wait_for_selector("#restock-form")
    assert "For 2 variants:" in page.inner_text("#content")
    page.fill("input[name=restock_date]", NEW.isoformat())
    page.fill("input[name=note]", "The kiln was late")
    screenshot(page, "admin-restock-form")
    page.get_by_role("button", name="Show what it changes").click()
    counts = page.locator("#restock-counts")
    counts.wait_for()
    assert counts.inner_text() == "2 customers' ETAs move, 2 will be emailed."
    screenshot(page, "admin-restock-preview")
    assert mail.outbox == [] and not Event.objects.filter(kind="eta_changed").exists()

    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url("**/admin/backorders/variant/")
    assert (
        page.locator("ul.messagelist li.success").inner_text()
        == "Restock date set for 2 variant(s); 2 customers' ETAs moved; 2 email(s) queued."
    )
    screenshot(page, "admin-restock-done")

    # The audit trail: one ETA change per moved backorder, by the owner.
    page.goto("/admin/backorders/event/?kind__exact=eta_changed")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 3
    assert all("owner" in text for text in rows.all_inner_texts())
    screenshot(page, "admin-restock-events")
    # The delay emails: one per order, through the outbox.
    page.goto("/admin/backorders/notification/?kind__exact=eta_changed")
    assert page.locator("#result_list tbody tr").count() == 2
    screenshot(page, "admin-restock-notifications")
    assert sorted(Notification.objects.filter(kind="eta_changed").values_list("status", flat=True)) == [
        "sent",
        "sent",
    ]
    assert len(mail.outbox) == 2 and all("April 16, 2027" in message.body for message in mail.outbox)
    assert Backorder.objects.get(variant=untouched).eta == date(2027, 3, 2)
    assert page.problems == []


def test_the_owner_exports_edits_and_imports_policies(page, site, django_user_model, make_variant, tmp_path):
    import csv
    import io

    django_user_model.objects.create_superuser("owner", "owner@example.com", "a-long-pass-phrase-1")
    mug = make_variant(stock=0, inventory_policy="continue", restock_date=RESTOCK, product__title="Blue Mug")
    plate = make_variant(stock=4, product__title="Stone Plate")
    page.goto("/admin/login/")
    page.fill("#id_username", "owner")
    page.fill("#id_password", "a-long-pass-phrase-1")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin/")
    page.goto("/admin/backorders/variant/")
    page.locator("#action-toggle").check()
    page.select_option("select[name=action]", "export_policies")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Go").click()
    exported = download_info.value.path().read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert {row["id"] for row in rows} == {str(mug.pk), str(plate.pk)}
    for row in rows:
        if row["id"] == str(plate.pk):
            row["backorder_mode"], row["backorder_limit"] = "allow", "many"  # one bad cell
    bad = tmp_path / "policies.csv"
    with bad.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    page.get_by_role("link", name="Import policies (CSV)").click()
    page.set_input_files("input[type=file]", str(bad))
    page.get_by_role("button", name="Preview the import").click()
    page.locator("#import-summary").wait_for()
    assert "The file has 1 error." in page.inner_text("#import-summary")
    assert "“many” is not a whole number" in page.inner_text("#import-rows")
    assert page.locator("input[name=apply]").count() == 0
    screenshot(page, "admin-import-error")

    for row in rows:
        if row["id"] == str(plate.pk):
            row["backorder_limit"] = "3"
    with bad.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    page.set_input_files("input[type=file]", str(bad))
    page.get_by_role("button", name="Preview the import").click()
    page.locator("#import-apply").wait_for()
    assert page.inner_text("#import-summary").startswith("1 variant will change; 2 rows read.")
    screenshot(page, "admin-import-preview")
    plate.refresh_from_db()
    assert plate.backorder_mode == ""  # nothing written by the preview
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**/admin/backorders/variant/")
    assert page.locator("ul.messagelist li.success").inner_text() == (
        "Policies imported: 1 variant(s) changed, 1 unchanged."
    )
    plate.refresh_from_db()
    assert (plate.backorder_mode, plate.backorder_limit) == ("allow", 3)
    assert page.problems == []
