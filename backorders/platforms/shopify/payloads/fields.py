"""Field decoders shared by every topic: each names the field it refuses and why."""

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.dateparse import parse_datetime


class PayloadError(ValueError):
    """The payload lacks a field its topic needs, or has one of the wrong type (never retried)."""


_GID = re.compile(r"^gid://[\w-]+/\w+/(\d+)$")


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
    """A platform id: a JSON integer (or its decimal string, or a ``gid://…/123``), positive."""
    if isinstance(value, str):
        text = value.strip()
        match = _GID.match(text)
        text = match.group(1) if match else text
        if text.isdigit():
            value = int(text)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise PayloadError(f"{path} must be a positive integer id, not {value!r:.60}.")
    return value


def as_optional_id(value: Any, path: str) -> int | None:
    return None if value is None else as_id(value, path)


def as_int(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise PayloadError(f"{path} must be an integer, not {_kind(value)}.")
    return value


def as_optional_int(value: Any, path: str) -> int | None:
    return None if value is None else as_int(value, path)


def as_str(value: Any, path: str) -> str:
    """A text field; null is "" and numbers are written out (a SKU may arrive as a number)."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise PayloadError(f"{path} must be a string, not {_kind(value)}.")
    return str(value)


def as_bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise PayloadError(f"{path} must be true or false, not {_kind(value)}.")
    return value


def as_decimal(value: Any, path: str) -> Decimal:
    """Money: the platform sends a string ("19.99"); null is 0."""
    if value is None:
        return Decimal("0")
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise PayloadError(f'{path} must be a decimal string such as "19.99", not {_kind(value)}.')
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise PayloadError(f'{path} must be a decimal string such as "19.99", not {value!r:.60}.') from None
    if not amount.is_finite():
        raise PayloadError(f"{path} must be a finite amount.")
    return amount


def as_datetime(value: Any, path: str) -> datetime | None:
    """An ISO-8601 timestamp (aware; a timestamp without offset is taken as UTC); null is None."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise PayloadError(f"{path} must be an ISO-8601 timestamp, not {_kind(value)}.")
    try:
        parsed = parse_datetime(value.strip())
    except ValueError:
        parsed = None
    if parsed is None:
        raise PayloadError(f"{path} must be an ISO-8601 timestamp, not {value!r:.60}.")
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


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
