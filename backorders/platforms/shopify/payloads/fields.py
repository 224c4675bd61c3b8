"""Field decoders shared by every topic: each names the field it refuses and why.

Every value a payload brings is bounded here, before any service or column sees it, so that a
delivery the columns cannot hold is ``rejected`` at once with the field named, instead of failing
in the database (and being retried in vain):

* ids: integers 1 ..  2**63 - 1 (``ID_MAX``, a ``BigIntegerField``);
* quantities (order lines, fulfilments): 0 .. ``QUANTITY_MAX``; stock counts (inventory levels,
  a variant's total, which may be negative): -``STOCK_MAX`` .. ``STOCK_MAX``;
* text: at most its column's ``max_length`` (the callers pass it, read from the model), no NUL
  (PostgreSQL text cannot hold it), valid Unicode (no lone surrogates, which JSON can spell as
  ``"\\ud800"`` but UTF-8 cannot encode);
* money: a non-negative amount rounded to cents that fits ``DecimalField(max_digits=12,
  decimal_places=2)``;
* timestamps: between ``EARLIEST`` and ``LATEST``.

URLs are the exception: one that is not an absolute http(s) URL fitting its column is dropped
(``""``, with a logged warning naming the field), and the rest of the delivery is applied.
"""

import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.db.models import Model
from django.utils.dateparse import parse_datetime

from backorders.services.lifecycle import http_url_valid
from backorders.services.webhooks.registry import DeliveryRejected

logger = logging.getLogger(__name__)

ID_MAX = 2**63 - 1
"""The largest platform id (a signed 64-bit ``BigIntegerField``)."""
QUANTITY_MAX = 1_000_000
"""The most units one order line or one fulfilment line may carry. Far above any real order,
far below what the counters (32-bit) could overflow with."""
STOCK_MAX = 100_000_000
"""The largest stock count, either way (a level's ``available`` may be negative)."""
TEXT_MAX = 255
"""The longest text accepted for a field that is not stored (or has no column of its own)."""
MONEY_DIGITS, MONEY_PLACES = 12, 2
"""Money as the columns store it (``Variant.price``): 12 digits, 2 of them after the point."""
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
"""Timestamps outside these are refused (a year 9999 with an offset does not even fit a datetime
once converted to UTC)."""

_NUMBER_TEXT_MAX = 64  # no id, amount or timestamp is longer as text
_GID = re.compile(r"^gid://[\w-]+/\w+/([0-9]+)$", re.ASCII)
_CENT = Decimal(1).scaleb(-MONEY_PLACES)


class PayloadError(DeliveryRejected):
    """The payload lacks a field its topic needs, or has one of the wrong type or out of bounds
    (the core's ``DeliveryRejected``: never retried)."""


def max_length(model: type[Model], field: str) -> int:
    """The ``max_length`` of a model's text column (the bound of the payload field stored there)."""
    length = getattr(model._meta.get_field(field), "max_length", None)
    assert isinstance(length, int), f"{model.__name__}.{field} has no max_length"
    return length


def _where(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def as_object(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PayloadError(f"{path or 'The body'} must be a JSON object, not {_kind(value)}.")
    return value


def _kind(value: Any) -> str:
    return {
        type(None): "null",
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "an array",
        dict: "an object",
    }.get(type(value), type(value).__name__)


def as_id(value: Any, path: str) -> int:
    """A platform id: a JSON integer (or its decimal string, or a ``gid://…/123``), 1 .. ID_MAX."""
    if isinstance(value, str) and len(value) <= 2 * _NUMBER_TEXT_MAX:
        text = value.strip()
        match = _GID.match(text)
        text = match.group(1) if match else text
        if text.isascii() and text.isdigit() and len(text) <= _NUMBER_TEXT_MAX:
            value = int(text)
    if isinstance(value, int) and not isinstance(value, bool) and value > ID_MAX:
        raise PayloadError(f"{path} must be a positive integer id below 2**63, not {_shown(value)}.")
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise PayloadError(f"{path} must be a positive integer id, not {_shown(value)}.")
    return value


def _shown(value: Any) -> str:
    """A value as quoted in an error: short, and printable whatever it holds."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**20:
        return f"a number of {len(str(abs(value)))} digits"
    if isinstance(value, str | int | float | bool) or value is None:
        return ascii(value)[:60]
    return _kind(value)


def as_optional_id(value: Any, path: str) -> int | None:
    return None if value is None else as_id(value, path)


def as_int(value: Any, path: str, *, low: int = 0, high: int = QUANTITY_MAX) -> int:
    """An integer within ``low`` .. ``high`` (by default a quantity: 0 .. QUANTITY_MAX); a float
    with no fractional part counts."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise PayloadError(f"{path} must be an integer, not {_kind(value)}.")
    if not low <= value <= high:
        raise PayloadError(f"{path} must be between {low:,} and {high:,}, not {_shown(value)}.")
    return value


def as_optional_int(value: Any, path: str, *, low: int = 0, high: int = QUANTITY_MAX) -> int | None:
    return None if value is None else as_int(value, path, low=low, high=high)


def as_stock(value: Any, path: str) -> int | None:
    """A stock count (may be negative), or None."""
    return as_optional_int(value, path, low=-STOCK_MAX, high=STOCK_MAX)


def as_str(value: Any, path: str, *, max_length: int = TEXT_MAX, cut: bool = False) -> str:
    """A text field; null is "" and numbers are written out (a SKU may arrive as a number). At
    most ``max_length`` characters (its column's), no NUL, valid Unicode.

    ``cut``: a longer text is cut to ``max_length`` instead of refused. Only for display text
    that is shown, never matched, and may be longer than one column on the platform (a line's
    title with its variant's options, a customer's names): refusing it would lose the order.
    """
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise PayloadError(f"{path} must be a string, not {_kind(value)}.")
    text = value if isinstance(value, str) else str(value)
    return text_checked(text[:max_length] if cut else text, path, max_length=max_length)


def text_checked(text: str, path: str, *, max_length: int) -> str:
    """``text`` if a text column can hold it, else ``PayloadError`` naming ``path``."""
    if len(text) > max_length:
        raise PayloadError(f"{path} is {len(text):,} characters long; at most {max_length:,} are accepted.")
    if "\x00" in text:
        raise PayloadError(f"{path} contains a NUL character (\\u0000), which text cannot hold.")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise PayloadError(
            f"{path} is not valid Unicode (it contains a lone surrogate such as \\ud800)."
        ) from None
    return text


def as_url(value: Any, path: str, *, max_length: int) -> str:
    """A URL to store (tracking, image): kept only if it is an absolute http(s) URL of at most
    ``max_length`` characters; anything else (``javascript:``, ``data:``, relative, too long, not
    a string) is dropped as "" with a logged warning, never an error: the rest of the delivery
    still applies."""
    if value is None or value == "":
        return ""
    if not isinstance(value, str):
        reason = f"not a string but {_kind(value)}"
    elif len(value) > max_length:
        reason = f"{len(value):,} characters long, over {max_length:,}"
    elif not http_url_valid(value):
        reason = f"not an absolute http(s) URL: {ascii(value)[:80]}"
    else:
        return value
    logger.warning("payload field %s dropped: %s", path, reason)
    return ""


def as_bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise PayloadError(f"{path} must be true or false, not {_kind(value)}.")
    return value


def as_decimal(value: Any, path: str) -> Decimal:
    """Money: the platform sends a string ("19.99"); null is 0. Rounded to cents (half up), at
    least 0 and small enough for the column (MONEY_DIGITS digits, MONEY_PLACES after the point)."""
    if value is None:
        return Decimal("0")
    example = f'{path} must be a decimal string such as "19.99"'
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise PayloadError(f"{example}, not {_kind(value)}.")
    text = str(value).strip()
    try:
        if len(text) > _NUMBER_TEXT_MAX:
            raise InvalidOperation
        amount = Decimal(text)
    except InvalidOperation:
        raise PayloadError(f"{example}, not {_shown(value)}.") from None
    if not amount.is_finite():
        raise PayloadError(f"{example}, a finite amount.")
    if amount < 0:
        raise PayloadError(f"{path} cannot be negative.")
    whole = MONEY_DIGITS - MONEY_PLACES
    too_large = f"{path} is too large: at most {whole} digits before the point, not {_shown(value)}."
    if amount and amount.adjusted() >= whole:
        raise PayloadError(too_large)
    amount = amount.quantize(_CENT, rounding=ROUND_HALF_UP)
    if amount and amount.adjusted() >= whole:  # 9999999999.995 rounds up past the limit
        raise PayloadError(too_large)
    return amount


def timestamp_parse(value: str, *, assume_utc: bool = True) -> datetime | None:
    """An ISO-8601 timestamp within EARLIEST .. LATEST, aware (without an offset it is UTC, or
    None unless ``assume_utc``); None if it is not one."""
    if len(value) > _NUMBER_TEXT_MAX:
        return None
    try:
        parsed = parse_datetime(value.strip())
        if parsed is None or (parsed.tzinfo is None and not assume_utc):
            return None
        parsed = parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
        in_range = EARLIEST <= parsed.astimezone(UTC) < LATEST
    except (ValueError, OverflowError):  # 2026-13-45, an offset past 24 h, year 1 at +01:00
        return None
    return parsed if in_range else None


def as_datetime(value: Any, path: str) -> datetime | None:
    """An ISO-8601 timestamp (aware; a timestamp without offset is taken as UTC) between
    EARLIEST and LATEST; null is None."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise PayloadError(f"{path} must be an ISO-8601 timestamp, not {_kind(value)}.")
    parsed = timestamp_parse(value)
    if parsed is None:
        raise PayloadError(
            f"{path} must be an ISO-8601 timestamp between {EARLIEST.year} and {LATEST.year - 1}, "
            f"not {_shown(value)}."
        )
    return parsed


def as_list(value: Any, path: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise PayloadError(f"{path} must be an array, not {_kind(value)}.")
    return value


def required(data: Mapping[str, Any], key: str, path: str = "") -> Any:
    if data.get(key) is None:
        raise PayloadError(f"{_where(path, key)} is missing.")
    return data[key]
