"""Policies as CSV in the admin: export from the lists (selection and filters), import with a
preview that writes nothing, then apply with the same text, signed for this user."""

import csv
import io
from datetime import timedelta

import pytest
from django.contrib.admin import helpers
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from backorders.models import Event, Variant
from tests.conftest import RESTOCK
from tests.factories import ShopFactory, VariantFactory

VARIANTS = reverse("admin:backorders_variant_changelist")
PRODUCTS = reverse("admin:backorders_product_changelist")
IMPORT = reverse("admin:backorders_variant_import_policies")


@pytest.fixture(autouse=True)
def _plain_http(settings):
    settings.SECURE_SSL_REDIRECT = False
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def catalog(make_backordered, make_variant, place):
    mug = make_backordered("Mug")
    plate = make_variant(stock=2, product__title="Plate")
    place({mug: 1}, accepted=True)
    return mug, plate


def export(client, url, objs, **extra):
    response = client.post(
        url, {"action": "export_policies", helpers.ACTION_CHECKBOX_NAME: [str(o.pk) for o in objs], **extra}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="variant-policies-')
    return response.content.decode("utf-8")


def upload(client, text: str, name="policies.csv"):
    return client.post(IMPORT, {"file": SimpleUploadedFile(name, text.encode(), content_type="text/csv")})


def edit(text: str, variant_id: int, **cells: str) -> str:
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    for row in rows:
        if row["id"] == str(variant_id):
            row.update(cells)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def test_export_from_variants_and_from_products_has_the_selected_variants(admin_client, catalog):
    mug, plate = catalog
    text = export(admin_client, VARIANTS, [mug])
    assert text.startswith("\ufeffid,shop,product_handle")  # a BOM, so that Excel reads UTF-8
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    assert [(r["id"], r["restock_date"], r["units_waiting"], r["customers_waiting"]) for r in rows] == [
        (str(mug.pk), RESTOCK.isoformat(), "1", "1")
    ]
    text = export(admin_client, PRODUCTS, [mug.product, plate.product])
    assert {r["id"] for r in csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))} == {
        str(mug.pk),
        str(plate.pk),
    }


def test_export_of_all_follows_the_lists_filter(admin_client, catalog):
    mug, plate = catalog
    VariantFactory(product__shop=ShopFactory(domain="other.myshopify.com"))
    response = admin_client.post(
        f"{VARIANTS}?shop__id__exact={mug.shop_id}",
        {"action": "export_policies", "select_across": "1", helpers.ACTION_CHECKBOX_NAME: [str(mug.pk)]},
    )
    rows = list(csv.DictReader(io.StringIO(response.content.decode().removeprefix("\ufeff"))))
    assert {r["id"] for r in rows} == {str(mug.pk), str(plate.pk)}


def test_the_variant_list_links_to_the_import(admin_client, catalog):
    assert IMPORT in admin_client.get(VARIANTS).content.decode()
    page = admin_client.get(IMPORT)
    assert page.status_code == 200 and 'type="file"' in page.content.decode()


def test_an_unchanged_export_previews_no_change_and_offers_nothing_to_apply(admin_client, catalog):
    mug, plate = catalog
    response = upload(admin_client, export(admin_client, VARIANTS, [mug, plate]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "The file asks for no change" in html and 'name="apply"' not in html


def test_preview_then_apply_changes_the_policies_through_the_services(admin_client, catalog, commit):
    mug, plate = catalog
    later = RESTOCK + timedelta(days=20)
    text = edit(export(admin_client, VARIANTS, [mug, plate]), mug.pk, restock_date=later.isoformat())
    text = edit(text, plate.pk, backorder_mode="allow")
    preview = upload(admin_client, text)
    html = preview.content.decode()
    assert preview.status_code == 200
    assert "2 variants will change; 2 rows read." in html
    assert f"<td>restock_date</td><td>{RESTOCK.isoformat()}</td><td>{later.isoformat()}</td>" in html
    assert "<td>backorder_mode</td><td>(inherit)</td><td>allow</td>" in html
    mug.refresh_from_db()
    assert mug.restock_date == RESTOCK  # the preview wrote nothing
    data = {
        "csv_text": preview.context["csv_text"],
        "signature": preview.context["signature"],
        "apply": "Apply",
    }
    with commit():
        done = admin_client.post(IMPORT, data)
    assert done.status_code == 302 and done.url == VARIANTS
    assert [str(m) for m in done.wsgi_request._messages] == [
        "Policies imported: 2 variant(s) changed, 0 unchanged."
    ]
    mug.refresh_from_db(), plate.refresh_from_db()
    assert (mug.restock_date, plate.backorder_mode) == (later, "allow")
    assert Event.objects.filter(kind="eta_changed", actor_name="admin").count() == 1


def test_one_bad_row_is_named_by_line_and_column_and_nothing_is_written(admin_client, catalog):
    mug, plate = catalog
    text = edit(export(admin_client, VARIANTS, [mug, plate]), mug.pk, restock_date="2027-04-01")
    text = edit(text, plate.pk, handling_days="many")
    response = upload(admin_client, text)
    html = response.content.decode()
    assert response.status_code == 400
    assert "The file has 1 error. Nothing was changed" in html
    line = 2 + [r["id"] for r in csv.DictReader(io.StringIO(text))].index(str(plate.pk))
    assert f'<tr class="import-error"><td>{line}</td>' in html and "<td>handling_days</td>" in html
    assert "“many” is not a whole number from 0 to 365" in html
    assert 'name="apply"' not in html
    assert set(Variant.objects.values_list("restock_date", flat=True)) == {RESTOCK, None}


def test_a_file_that_is_not_utf8_is_refused_clearly(admin_client, catalog):
    response = admin_client.post(IMPORT, {"file": SimpleUploadedFile("p.csv", b"id;\xe9t\xe9\r\n")})
    assert response.status_code == 400
    assert "The file is not UTF-8 text" in response.content.decode()


def test_an_altered_or_foreign_text_is_refused_and_changes_nothing(
    admin_client, catalog, django_user_model, client
):
    mug, plate = catalog
    text = edit(export(admin_client, VARIANTS, [mug]), mug.pk, backorder_mode="deny")
    preview = upload(admin_client, text)
    signature = preview.context["signature"]
    altered = admin_client.post(
        IMPORT, {"csv_text": text.replace("deny", "allow"), "signature": signature, "apply": "Apply"}
    )
    assert altered.status_code == 302 and altered.url == IMPORT
    assert "expired or was altered" in str(list(altered.wsgi_request._messages)[0])
    other = django_user_model.objects.create_superuser("other", "o@example.com", "pw-long-enough-1")
    client.force_login(other)
    foreign = client.post(IMPORT, {"csv_text": text, "signature": signature, "apply": "Apply"})
    assert foreign.status_code == 302 and foreign.url == IMPORT
    mug.refresh_from_db()
    assert mug.backorder_mode == ""


def test_the_import_is_refused_to_users_who_may_not_change_variants(client, django_user_model, catalog):
    staff = django_user_model.objects.create_user("staff", "s@example.com", "pw-long-enough-1", is_staff=True)
    client.force_login(staff)
    assert client.get(IMPORT).status_code == 403


def test_the_preview_escapes_what_the_file_says(admin_client, catalog):
    mug, _plate = catalog
    text = edit(export(admin_client, VARIANTS, [mug]), mug.pk, restock_note="<img src=x onerror=alert(1)>")
    html = upload(admin_client, text).content.decode()
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_preview_and_apply_of_200_rows_are_bounded(
    admin_client, make_variant, django_assert_max_num_queries, commit
):
    variants = [make_variant(product__title=f"Item {n}") for n in range(200)]
    text = export(admin_client, VARIANTS, variants)
    for variant in variants:
        text = edit(text, variant.pk, handling_days="3")
    with django_assert_max_num_queries(10):
        preview = upload(admin_client, text)
    assert "200 variants will change" in preview.content.decode()
    data = {
        "csv_text": preview.context["csv_text"],
        "signature": preview.context["signature"],
        "apply": "Apply",
    }
    with django_assert_max_num_queries(200 * 6 + 30):
        assert admin_client.post(IMPORT, data).status_code == 302
    assert Variant.objects.filter(handling_days=3).count() == 200


def test_a_file_with_unix_line_ends_applies_after_the_browser_sends_it_back_with_crlf(admin_client, catalog):
    mug, _plate = catalog
    text = edit(export(admin_client, VARIANTS, [mug]), mug.pk, handling_days="5").replace("\r\n", "\n")
    preview = upload(admin_client, text)
    as_a_browser_sends_it = preview.context["csv_text"].replace("\n", "\r\n")
    done = admin_client.post(
        IMPORT,
        {"csv_text": as_a_browser_sends_it, "signature": preview.context["signature"], "apply": "Apply"},
    )
    assert done.status_code == 302 and done.url == VARIANTS
    mug.refresh_from_db()
    assert mug.handling_days == 5
