"""Stored webhook bodies as JSON, parsed only within bounds.

A signed body can still be hostile. Python's ``json`` parser recurses once per nested array or
object, so a body nested thousands deep raises ``RecursionError`` (not ``ValueError``) wherever it
is parsed: the endpoint, the processing task, the admin, a privacy redaction. Every reader of a
body therefore goes through ``body_load``, which measures the nesting first with a cheap scan of
the raw text (strings skipped, no recursion) and refuses a body deeper than ``MAX_NESTING``. No
platform payload comes near it: an order, the deepest, nests about 6 levels.

``body_load`` also refuses ``NaN`` and ``Infinity``, which Python accepts but JSON (and
PostgreSQL's ``jsonb``) does not, and integers too long to convert (Python refuses more than
4,300 digits with a ``ValueError``).
"""

import json
import re
from typing import Any

MAX_NESTING = 64
"""The deepest nesting of arrays and objects a body may have (the body itself is level 1)."""

# The tokens of the exact scan: a JSON string (skipped whole, escapes included), or a bracket.
_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)
# For the quick bound: every opening bracket becomes "[", every closing one "]", the rest goes.
_UNIFY = bytes.maketrans(b"{}", b"[]")
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"[]{}")
_OPEN = frozenset("[{")
_CLOSE = frozenset("]}")


class BodyTooDeep(ValueError):
    """The body nests arrays and objects deeper than ``MAX_NESTING``."""

    def __init__(self) -> None:
        super().__init__(
            f"The body nests arrays and objects more than {MAX_NESTING} levels deep; "
            "no platform payload does, so it was not parsed."
        )


def nesting_too_deep(text: str, *, limit: int = MAX_NESTING) -> bool:
    """Whether ``text`` nests arrays and objects more than ``limit`` levels deep, found without
    parsing and without recursion. Brackets inside strings do not count.

    Cheap first, exact last: a body with at most ``limit`` brackets is fine; so is one whose
    brackets alone (those inside strings included: an upper bound) collapse within ``limit``
    passes, each removing the innermost pairs at C speed. Only a body that may be deeper (a
    run of more than ``limit`` opening brackets, or brackets left after the passes: deeper,
    unbalanced, or deep only inside its strings) is scanned token by token, a scan that stops
    as soon as it passes ``limit`` or finds more closing brackets than opening ones.
    """
    if text.count("[") + text.count("{") <= limit:  # the common case, at once
        return False
    brackets = text.encode("utf-8", "surrogatepass").translate(_UNIFY, _NOT_BRACKETS)
    if b"[" * (limit + 1) not in brackets:
        for _ in range(limit):
            if not brackets:
                return False
            brackets = brackets.replace(b"[]", b"")  # one level: the result is not searched again
        if not brackets:
            return False
    return _scan_too_deep(text, limit)


def _scan_too_deep(text: str, limit: int) -> bool:
    depth = 0
    for match in _TOKENS.finditer(text):
        token = match.group()
        if token in _OPEN:
            depth += 1
            if depth > limit:
                return True
        elif token in _CLOSE:
            depth -= 1
            if depth < 0:  # unbalanced: malformed JSON, which the parser refuses at once
                return False
    return False


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number.")


def body_load(text: str) -> Any:
    """Parse a webhook body: ``BodyTooDeep`` past ``MAX_NESTING``, ``ValueError`` if it is not
    standard JSON. Never ``RecursionError``."""
    if nesting_too_deep(text):
        raise BodyTooDeep()
    return json.loads(text, parse_constant=_refuse_constant)
