"""Policies as CSV: an exported file imported again changes nothing; a bad row changes nothing
and is named by line and column; a good file applies through the services in one transaction."""

import csv
import io
from datetime import date, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from backorders.models import Event, Notification, Variant
from backorders.services.audit import Actor
from backorders.services.policy_csv import (
    COLUMNS,
    ImportRefused,
    policy_export,
    policy_export_csv,
    policy_import_apply,
    policy_import_parse,
)
from tests.conftest import RESTOCK
from tests.factories import ShopFactory, VariantFactory

OWNER = Actor.admin("owner")


@pytest.fixture
def catalog(make_variant, make_backordered, place, commit):
    """A waiting mug (restock date, limit), a plate inheriting everything, a denied bowl."""
    mug = make_backordered("Mug", backorder_limit=5, handling_days=2, restock_note="From the kiln")
    plate = make_variant(stock=3, product__title="Plate")
    bowl = make_variant(stock=0, backorder_mode="deny", product__title="Bowl")
    with commit():
        place({mug: 2}, accepted=True)
        place({mug: 1}, accepted=True)
    mail.outbox.clear()
    return mug, plate, bowl


def export(queryset=None) -> str:
    return policy_export_csv(queryset if queryset is not None else Variant.objects.all())


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def edit(text: str, variant_id: int, **cells: str) -> str:
    rows = rows_of(text)
    for row in rows:
        if row["id"] == str(variant_id):
            row.update(cells)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(COLUMNS))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def test_the_export_has_each_variants_own_policy_and_its_waiting_counts(catalog):
    mug, plate, bowl = catalog
    rows = {row["id"]: row for row in rows_of(export())}
    assert {name: rows[str(mug.pk)][name] for name in COLUMNS[1:]} == {
        "shop": "acme.myshopify.com",
        "product_handle": mug.product.handle,
        "product_title": "Mug",
        "variant_platform_id": str(mug.platform_id),
        "sku": mug.sku,
        "variant_title": "Default Title",
        "backorder_mode": "",
        "backorder_limit": "5",
        "restock_date": RESTOCK.isoformat(),
        "restock_note": "From the kiln",
        "handling_days": "2",
        "units_waiting": "3",
        "customers_waiting": "2",
    }
    assert (rows[str(plate.pk)]["backorder_mode"], rows[str(plate.pk)]["restock_date"]) == ("", "")
    assert rows[str(bowl.pk)]["backorder_mode"] == "deny"


def test_the_export_costs_one_query_whatever_the_catalog(catalog, make_variant, django_assert_num_queries):
    for n in range(30):
        make_variant(product__title=f"Item {n}")
    with django_assert_num_queries(1):  # the variants with their counts, nothing per row
        assert len(list(policy_export(Variant.objects.all()))) == 34


def test_an_exported_file_imported_unchanged_changes_nothing(catalog):
    mug, *_ = catalog
    before = list(Variant.objects.order_by("pk").values())
    plan = policy_import_parse(export().encode(), variants=Variant.objects.all())
    assert plan.ok and plan.changed == [] and len(plan.rows) == 3
    result = policy_import_apply(plan=plan, actor=OWNER)
    assert (result.changed, result.unchanged) == (0, 3)
    assert list(Variant.objects.order_by("pk").values()) == before
    assert Event.objects.filter(kind=Event.Kind.ETA_CHANGED).count() == 0


def test_a_good_file_applies_through_the_services(catalog, commit, shop):
    mug, plate, bowl = catalog
    later = RESTOCK + timedelta(days=20)
    text = edit(export(), mug.pk, restock_date=later.isoformat(), backorder_limit="")
    text = edit(text, plate.pk, backorder_mode="allow", handling_days="4")
    plan = policy_import_parse(text.encode(), variants=Variant.objects.all())
    assert plan.ok
    assert {row.variant.pk: row.changes for row in plan.changed} == {
        mug.pk: {"restock_date": (RESTOCK, later), "backorder_limit": (5, None)},
        plate.pk: {"backorder_mode": ("", "allow"), "handling_days": (None, 4)},
    }
    with commit():
        result = policy_import_apply(plan=plan, actor=OWNER)
    assert (result.changed, result.unchanged) == (2, 1)
    mug.refresh_from_db(), plate.refresh_from_db()
    assert (mug.restock_date, mug.backorder_limit) == (later, None)
    assert (plate.backorder_mode, plate.handling_days) == ("allow", 4)
    # The customers' ETAs moved as for one edit: audited and emailed.
    events = Event.objects.filter(kind=Event.Kind.ETA_CHANGED)
    assert {(e.actor_name, e.eta_to) for e in events} == {("owner", later + timedelta(days=2))}
    assert events.count() == 2
    assert Notification.objects.filter(kind="eta_changed").count() == 2 and len(mail.outbox) == 2


def test_one_bad_row_is_named_by_line_and_column_and_nothing_is_written(catalog):
    mug, plate, bowl = catalog
    text = edit(export(), mug.pk, restock_date="2027-04-01")  # a good change
    text = edit(text, plate.pk, backorder_limit="lots", backorder_mode="maybe")
    before = list(Variant.objects.order_by("pk").values())
    plan = policy_import_parse(text.encode(), variants=Variant.objects.all())
    assert not plan.ok
    lines = {row["id"]: n for n, row in enumerate(rows_of(text), start=2)}
    assert [(e.line, e.column) for e in plan.errors] == [
        (lines[str(plate.pk)], "backorder_mode"),
        (lines[str(plate.pk)], "backorder_limit"),
    ]
    assert "“lots” is not a whole number from 0 to 1000000" in plan.errors[1].message
    with pytest.raises(ImportRefused):
        policy_import_apply(plan=plan, actor=OWNER)
    assert list(Variant.objects.order_by("pk").values()) == before


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("restock_date", "01/03/2027", "is not a date: write it as YYYY-MM-DD"),
        ("restock_date", "2027-02-30", "is not a date"),
        ("restock_date", "PAST", "is in the past"),
        ("restock_date", "FAR", "is more than 730 days from today"),
        ("handling_days", "366", "from 0 to 365"),
        ("handling_days", "-1", "from 0 to 365"),
        ("backorder_limit", "1000001", "from 0 to 1000000"),
        ("backorder_limit", "2.5", "is not a whole number"),
        ("restock_note", "x" * 256, "256 characters long; at most 255"),
        ("id", "999999", "No variant with id “999999”"),
        ("id", "abc", "No variant with id “abc”"),
    ],
)
def test_each_value_is_bounded_before_it_reaches_a_column(catalog, shop, column, value, message):
    mug, *_ = catalog
    today = timezone.localdate(timezone=shop.zoneinfo)
    value = {
        "PAST": (today - timedelta(days=1)).isoformat(),
        "FAR": (today + timedelta(days=731)).isoformat(),
    }.get(value, value)
    plan = policy_import_parse(edit(export(), mug.pk, **{column: value}), variants=Variant.objects.all())
    [error] = plan.errors
    assert error.column == column and message in error.message


def test_a_variant_of_another_shop_is_a_row_error(catalog):
    mug, *_ = catalog
    other = VariantFactory(product__shop=ShopFactory())
    text = export(Variant.objects.all())  # every shop's rows, imported by someone who sees one shop
    plan = policy_import_parse(text.encode(), variants=Variant.objects.filter(shop=mug.shop))
    [error] = plan.errors
    assert (error.column, error.message) == (
        "id",
        f"No variant with id “{other.pk}” among those you may see.",
    )


def test_a_variant_the_user_may_not_change_is_a_row_error(catalog):
    mug, *_ = catalog
    plan = policy_import_parse(export(), variants=Variant.objects.all(), may_change=lambda v: v.pk != mug.pk)
    [error] = plan.errors
    assert error.column == "id" and "You may not change the variants of acme.myshopify.com" in error.message


def test_the_same_variant_twice_is_an_error_on_its_second_line(catalog):
    text = export()
    lines = text.splitlines()
    plan = policy_import_parse("\r\n".join([*lines, lines[1]]), variants=Variant.objects.all())
    [error] = plan.errors
    assert (error.line, error.column) == (5, "id") and "is on line 2 already" in error.message


def test_formula_cells_are_exported_as_text_and_read_back(catalog, commit):
    mug, *_ = catalog
    Variant.objects.filter(pk=mug.pk).update(restock_note='=HYPERLINK("http://evil")', sku="+SKU-1")
    text = export()
    row = next(row for row in rows_of(text) if row["id"] == str(mug.pk))
    assert (row["restock_note"], row["sku"]) == ('\'=HYPERLINK("http://evil")', "'+SKU-1")
    plan = policy_import_parse(text, variants=Variant.objects.all())
    assert plan.ok and plan.changed == []  # the prefix is stripped back: no change
    edited = edit(text, mug.pk, restock_note="'@sum(A1)")
    [row_plan] = policy_import_parse(edited, variants=Variant.objects.all()).changed
    assert row_plan.changes == {"restock_note": ('=HYPERLINK("http://evil")', "@sum(A1)")}


def test_a_bom_and_excels_semicolons_are_read(catalog):
    mug, *_ = catalog
    text = edit(export(), mug.pk, handling_days="3")
    semicolons = "\r\n".join(";".join(row) for row in csv.reader(io.StringIO(text)))
    for data in ("\ufeff" + text).encode(), ("\ufeff" + semicolons).encode("utf-8"):
        plan = policy_import_parse(data, variants=Variant.objects.all())
        assert plan.ok, plan.errors
        assert [row.changes for row in plan.changed] == [{"handling_days": (2, 3)}]


def test_only_the_key_and_policy_columns_are_needed(catalog):
    mug, *_ = catalog
    header = "id,backorder_mode,backorder_limit,restock_date,restock_note,handling_days"
    text = f"{header}\r\n{mug.pk},allow,5,{RESTOCK},From the kiln,2\r\n"
    [row] = policy_import_parse(text, variants=Variant.objects.all()).rows
    assert row.errors == [] and row.changes == {"backorder_mode": ("", "allow")}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xff\xfeid,sku\r\n", "The file is not UTF-8 text"),
        (b"", "The file is empty"),
        (b"id,sku,backorder_mode\r\n", "Missing column(s): backorder_limit, restock_date"),
        (
            b"id,colour,backorder_mode,backorder_limit,restock_date,restock_note,handling_days\r\n",
            "Unknown column(s): “colour”",
        ),
        (
            b"id,id,backorder_mode,backorder_limit,restock_date,restock_note,handling_days\r\n",
            "Column(s) named twice: id",
        ),
        (
            b'id,backorder_mode,backorder_limit,restock_date,restock_note,handling_days\r\n"1,allow\r\n',
            "cannot be read as CSV",
        ),
        (b"x" * (2 * 1024 * 1024 + 1), "larger than 2 MB"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_as_a_whole(catalog, data, message):
    before = list(Variant.objects.order_by("pk").values())
    plan = policy_import_parse(data, variants=Variant.objects.all())
    assert not plan.ok and any(message in error for error in plan.file_errors), plan.file_errors
    with pytest.raises(ImportRefused):
        policy_import_apply(plan=plan, actor=OWNER)
    assert list(Variant.objects.order_by("pk").values()) == before


def test_too_many_rows_are_refused(catalog, settings, monkeypatch):
    from backorders.services import policy_csv

    monkeypatch.setattr(policy_csv, "MAX_ROWS", 2)
    plan = policy_import_parse(export(), variants=Variant.objects.all())
    assert plan.file_errors == ["The file has more than 2 rows; split it into smaller files."]


def test_a_row_with_a_missing_cell_is_named(catalog):
    mug, *_ = catalog
    text = f"id,backorder_mode,backorder_limit,restock_date,restock_note,handling_days\r\n{mug.pk},allow\r\n"
    [error] = policy_import_parse(text, variants=Variant.objects.all()).errors
    assert (error.line, error.column, error.message) == (2, "", "This row has 2 cells; the header has 6.")


def test_parsing_costs_a_constant_number_of_queries(catalog, make_variant, django_assert_max_num_queries):
    for n in range(40):
        make_variant(product__title=f"Item {n}")
    text = export()
    with django_assert_max_num_queries(2):
        plan = policy_import_parse(text, variants=Variant.objects.all())
    assert len(plan.rows) == 43 and plan.ok


def test_an_unchanged_date_in_the_past_is_no_error(catalog, shop):
    """A restock date that has passed since the export is left alone, not refused."""
    mug, *_ = catalog
    Variant.objects.filter(pk=mug.pk).update(restock_date=date(2020, 1, 1))
    assert policy_import_parse(export(), variants=Variant.objects.all()).ok
