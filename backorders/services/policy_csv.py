"""Variant policies as CSV, out and in: export, a dry-run import plan, and applying it.

The standard library's ``csv`` module is the tool: the file is one flat table of a dozen short
columns, which it reads and writes correctly (quoting, embedded newlines, Excel's output) with
no dependency; a dataframe or import/export framework (pandas, django-import-export) would add a
large dependency and its own write path, while every write here must go through the policy
services. What ``csv`` does not do, this module does: bounds on the file (size, rows, header),
a value check per cell with the line and column of each error, a BOM, Excel's ``;`` when the
header uses it, and CSV injection: cells that a spreadsheet would run as a formula (starting with
``= + - @``, tab or carriage return) are exported with a leading ``'``, which the import strips.

The file holds the variant's **own** overrides (an empty cell = inherit from the product, then
the shop), so an exported file imported again changes nothing. Rows are identified by ``id``
(the variant's id here); the other descriptive columns (shop, product, SKU, counts) are for the
reader and ignored on import. Only the policy columns are applied:

``backorder_mode`` (``allow``, ``deny`` or empty), ``backorder_limit`` (0 to 1,000,000 or empty),
``restock_date`` (``YYYY-MM-DD`` or empty; from today to 730 days ahead in the shop's time zone
when changed), ``restock_note`` (up to 255 characters), ``handling_days`` (0 to 365 or empty).

A plan with any error applies nothing; a good plan applies in one transaction through
``variant_set_policy`` (validated, audited, customers' ETAs moved and emailed as for one edit).
"""

import csv
import io
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from backorders.models import Backorder, BackorderMode, Variant
from backorders.services.audit import Actor
from backorders.services.catalog import PolicyRefused, policy_validate, variant_set_policy
from backorders.services.locking import retrying_atomic, variants_lock

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 10_000
LIMIT_MAX = 1_000_000
HANDLING_DAYS_MAX = 365
NOTE_MAX = 255

KEY = "id"
EDITABLE = ("backorder_mode", "backorder_limit", "restock_date", "restock_note", "handling_days")
DESCRIPTIVE = (
    "shop",
    "product_handle",
    "product_title",
    "variant_platform_id",
    "sku",
    "variant_title",
    "units_waiting",
    "customers_waiting",
)
COLUMNS = (
    KEY,
    "shop",
    "product_handle",
    "product_title",
    "variant_platform_id",
    "sku",
    "variant_title",
    *EDITABLE,
    "units_waiting",
    "customers_waiting",
)

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def cell_escape(value: str) -> str:
    """A cell a spreadsheet shows as text: a leading ``'`` before what it would run as a formula."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def cell_unescape(value: str) -> str:
    """The exported value of a cell ``cell_escape`` protected."""
    return value[1:] if value.startswith("'") and value[1:2] in _FORMULA_STARTS and value[1:] else value


# --- Export -----------------------------------------------------------------------------------


def policy_export(variants: QuerySet[Variant]) -> Iterator[list[str]]:
    """The header, then one row per variant of ``variants`` (the caller's scope and filters), in
    shop, product and variant order: the columns of ``COLUMNS``, every cell escaped against CSV
    injection. One query whatever the number of variants (read in chunks)."""
    yield list(COLUMNS)
    waiting = Q(backorders__status=Backorder.Status.WAITING)
    rows = (
        variants.select_related("product", "shop")
        .annotate(customers_waiting=Count("backorders__order", filter=waiting, distinct=True))
        .order_by("shop__domain", "product__title", "product_id", "pk")
    )
    for variant in rows.iterator(chunk_size=1000):
        values: dict[str, Any] = {
            KEY: variant.pk,
            "shop": variant.shop.domain,
            "product_handle": variant.product.handle,
            "product_title": variant.product.title,
            "variant_platform_id": variant.platform_id,
            "sku": variant.sku,
            "variant_title": variant.title,
            "backorder_mode": variant.backorder_mode,
            "backorder_limit": variant.backorder_limit,
            "restock_date": variant.restock_date.isoformat() if variant.restock_date else "",
            "restock_note": variant.restock_note,
            "handling_days": variant.handling_days,
            "units_waiting": variant.units_waiting,
            "customers_waiting": variant.customers_waiting,  # type: ignore[attr-defined]
        }
        yield [cell_escape("" if values[name] is None else str(values[name])) for name in COLUMNS]


def policy_export_csv(variants: QuerySet[Variant]) -> str:
    """``policy_export`` as CSV text (UTF-8 with a BOM added by the caller, if it wants Excel)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows(policy_export(variants))
    return out.getvalue()


# --- Import: the plan -------------------------------------------------------------------------


@dataclass(frozen=True)
class CellError:
    """What is wrong with one cell (``column`` "" for the row as a whole), by line of the file."""

    line: int
    column: str
    message: str


@dataclass
class RowPlan:
    """One data row: its variant and what would change (field → (old, new)), or its errors."""

    line: int
    variant: Variant | None = None
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    errors: list[CellError] = field(default_factory=list)


@dataclass
class ImportPlan:
    """What importing a file would do; ``file_errors`` refuse the file as a whole."""

    rows: list[RowPlan] = field(default_factory=list)
    file_errors: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[CellError]:
        return [error for row in self.rows for error in row.errors]

    @property
    def ok(self) -> bool:
        return not self.file_errors and not self.errors

    @property
    def changed(self) -> list[RowPlan]:
        return [row for row in self.rows if row.changes and not row.errors]


class ImportRefused(Exception):
    """A plan with errors was asked to apply; nothing was written."""


def _decode(data: bytes | str) -> tuple[str, str]:
    """The file's text, or "" and why it cannot be read."""
    if isinstance(data, str):
        return data.removeprefix("\ufeff"), ""
    try:
        return data.decode("utf-8-sig"), ""
    except UnicodeDecodeError as error:
        return "", _(
            "The file is not UTF-8 text (byte %(n)d cannot be read). Save it as “CSV UTF-8” and "
            "upload it again."
        ) % {"n": error.start + 1}


def _int(value: str, low: int, high: int) -> int | None:
    if value == "":
        return None
    if not re.fullmatch(r"[0-9]{1,9}", value) or not low <= int(value) <= high:
        raise ValueError(
            _("“%(value)s” is not a whole number from %(low)d to %(high)d; leave it empty to inherit.")
            % {"value": value[:40], "low": low, "high": high}
        )
    return int(value)


def _mode(value: str) -> str:
    if value.lower() in ("", *BackorderMode.values):
        return value.lower()
    raise ValueError(
        _("“%(value)s” is not a backorder mode: enter %(modes)s, or leave it empty to inherit.")
        % {"value": value[:40], "modes": _(" or ").join(BackorderMode.values)}
    )


def _date(value: str) -> date | None:
    if value == "":
        return None
    try:
        if not _ISO_DATE.fullmatch(value):
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(
            _(
                "“%(value)s” is not a date: write it as YYYY-MM-DD (e.g. 2027-03-01), or leave it "
                "empty for none."
            )
            % {"value": value[:40]}
        ) from None


def _note(value: str) -> str:
    if len(value) > NOTE_MAX:
        raise ValueError(
            _("The note is %(n)d characters long; at most %(max)d fit.") % {"n": len(value), "max": NOTE_MAX}
        )
    if any(ord(char) < 32 or ord(char) == 127 for char in value):
        raise ValueError(_("The note contains a line break or a control character; write it on one line."))
    return value


_PARSERS: dict[str, Callable[[str], Any]] = {
    "backorder_mode": _mode,
    "backorder_limit": lambda value: _int(value, 0, LIMIT_MAX),
    "restock_date": _date,
    "restock_note": _note,
    "handling_days": lambda value: _int(value, 0, HANDLING_DAYS_MAX),
}


def _header_errors(header: Sequence[str]) -> list[str]:
    errors = []
    known = set(COLUMNS)
    if unknown := [name for name in header if name not in known]:
        errors.append(
            _("Unknown column(s): %(names)s. The columns are those of the export: %(columns)s.")
            % {"names": ", ".join(f"“{name[:40]}”" for name in unknown[:10]), "columns": ", ".join(COLUMNS)}
        )
    if missing := [name for name in (KEY, *EDITABLE) if name not in header]:
        errors.append(_("Missing column(s): %(names)s.") % {"names": ", ".join(missing)})
    if duplicated := sorted({name for name in header if header.count(name) > 1}):
        errors.append(_("Column(s) named twice: %(names)s.") % {"names": ", ".join(duplicated)})
    return errors


def policy_import_parse(
    data: bytes | str,
    *,
    variants: QuerySet[Variant],
    may_change: Callable[[Variant], bool] | None = None,
) -> ImportPlan:
    """Read a policy CSV (``COLUMNS``; the descriptive ones may be left out) and say what
    importing it would change, row by row, without writing anything.

    ``variants`` is the importer's scope (the admin's queryset for this user): an ``id`` outside
    it is a row error, as is a variant ``may_change`` refuses (a shop the user may only view).
    Each bad cell is reported with its line and column; the file as a whole is refused when it is
    larger than ``MAX_BYTES``, has more than ``MAX_ROWS`` rows, is not UTF-8, or its header is
    wrong. Three queries whatever the size of the file.
    """
    plan = ImportPlan()
    if len(data) > MAX_BYTES:
        plan.file_errors.append(
            _("The file is larger than %(mb)d MB; split it into smaller files.")
            % {"mb": MAX_BYTES // (1024 * 1024)}
        )
        return plan
    text, problem = _decode(data)
    if problem:
        plan.file_errors.append(problem)
        return plan
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if ";" in first_line and "," not in first_line else ","  # Excel in some locales
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = [cell.strip().lower() for cell in next(reader, [])]
        if not any(header):
            plan.file_errors.append(_("The file is empty: it needs the header row of the export."))
            return plan
        if errors := _header_errors(header):
            plan.file_errors.extend(errors)
            return plan
        raw: list[tuple[int, dict[str, str]]] = []
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue  # a blank line (Excel adds some)
            if len(raw) == MAX_ROWS:
                plan.file_errors.append(
                    _("The file has more than %(n)d rows; split it into smaller files.") % {"n": MAX_ROWS}
                )
                return plan
            if len(cells) != len(header):
                plan.rows.append(
                    RowPlan(
                        line=reader.line_num,
                        errors=[
                            CellError(
                                reader.line_num,
                                "",
                                _("This row has %(n)d cells; the header has %(m)d.")
                                % {"n": len(cells), "m": len(header)},
                            )
                        ],
                    )
                )
                continue
            raw.append(
                (
                    reader.line_num,
                    {name: cell_unescape(cell.strip()) for name, cell in zip(header, cells, strict=True)},
                )
            )
    except csv.Error as error:
        plan.file_errors.append(
            _("Line %(line)d cannot be read as CSV (%(error)s).") % {"line": reader.line_num, "error": error}
        )
        return plan

    ids = {int(values[KEY]) for _line, values in raw if re.fullmatch(r"[0-9]{1,18}", values[KEY])}
    found = {variant.pk: variant for variant in variants.filter(pk__in=ids).select_related("product", "shop")}
    seen: dict[int, int] = {}
    for line, values in raw:
        plan.rows.append(_row_plan(line, values, found, seen, may_change))
    plan.rows.sort(key=lambda row: row.line)
    return plan


def _row_plan(
    line: int,
    values: dict[str, str],
    found: dict[int, Variant],
    seen: dict[int, int],
    may_change: Callable[[Variant], bool] | None,
) -> RowPlan:
    row = RowPlan(line=line)
    key = values[KEY]
    variant = found.get(int(key)) if re.fullmatch(r"[0-9]{1,18}", key) else None
    if variant is None:
        row.errors.append(
            CellError(line, KEY, _("No variant with id “%(id)s” among those you may see.") % {"id": key[:40]})
        )
        return row
    if variant.pk in seen:
        row.errors.append(
            CellError(
                line,
                KEY,
                _("Variant %(id)d is on line %(line)d already.")
                % {"id": variant.pk, "line": seen[variant.pk]},
            )
        )
        return row
    seen[variant.pk] = line
    if may_change is not None and not may_change(variant):
        row.errors.append(
            CellError(
                line, KEY, _("You may not change the variants of %(shop)s.") % {"shop": variant.shop.domain}
            )
        )
        return row
    row.variant = variant
    for name in EDITABLE:
        try:
            new = _PARSERS[name](values[name])
        except ValueError as error:
            row.errors.append(CellError(line, name, str(error)))
            continue
        old = getattr(variant, name)
        if new != old:
            row.changes[name] = (old, new)
    if row.changes:
        try:
            policy_validate(obj=variant, changes={name: new for name, (_old, new) in row.changes.items()})
        except PolicyRefused as refusal:
            for name, messages in refusal.message_dict.items():
                row.errors += [CellError(line, name, message) for message in messages]
    return row


# --- Import: applying -------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    changed: int  # variants whose policy changed
    unchanged: int  # rows that asked for what was already there


@retrying_atomic
def policy_import_apply(*, plan: ImportPlan, actor: Actor) -> ImportResult:
    """Apply a plan of ``policy_import_parse`` in one transaction through ``variant_set_policy``
    (each variant validated again, audited, its customers' ETAs moved and emailed as for one
    edit). A plan with any error is refused (``ImportRefused``) and nothing is written; a
    refusal by the service rolls every row back."""
    if not plan.ok:
        raise ImportRefused(_("The file has errors: fix them and upload it again. Nothing was changed."))
    rows = sorted(plan.changed, key=lambda row: row.variant.pk if row.variant else 0)
    variants_lock(row.variant.pk for row in rows if row.variant is not None)  # all first, in pk order
    for row in rows:
        assert row.variant is not None
        variant_set_policy(
            variant=row.variant,
            actor=actor,
            **{name: new for name, (_old, new) in row.changes.items()},  # type: ignore[arg-type]
        )
    return ImportResult(changed=len(rows), unchanged=len(plan.rows) - len(rows))
