"""What a PostgreSQL error may say: the server's message for a value it refused (a data
exception, SQLSTATE class 22) quotes the value, so such a message is withheld.

A ``numeric`` column without a precision of at most 38 digits is read as ``double``
(``pg_sql.logical_type``), and PostgreSQL refuses to convert a value beyond double's
range (±1.8e308, or one nearer zero than 2.2e-308) with a message that spells the whole
value out; it would reach the terminal and the audit log, which keeps it for good.

An error that ends a ``COPY`` stream reaches the reader without its SQLSTATE, so these
messages are also known by their wording (PostgreSQL's own, in English: a server set to
report errors in another language, with ``lc_messages``, is known by SQLSTATE only).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_DATA_EXCEPTION = "22"  # SQLSTATE class: a value the server could not convert or hold
_OUT_OF_RANGE = "22003"  # numeric_value_out_of_range
_DATA_WORDING = re.compile(
    r"out of range for type|invalid input syntax for|invalid input value for|"
    r"value too long for type|invalid byte sequence for encoding|"
    r"has no equivalent in encoding"
)
_DOUBLE_OUT_OF_RANGE = re.compile(r"out of range for type double precision")


def _sqlstate(exc: BaseException) -> str:
    return str(getattr(exc, "sqlstate", None) or "")


def withheld(exc: BaseException) -> str | None:
    """The message to show instead of ``exc``'s when the server's may quote a value;
    None when it may be shown."""
    state = _sqlstate(exc)
    if not state.startswith(_DATA_EXCEPTION) and not _DATA_WORDING.search(str(exc)):
        return None
    code = f" (SQLSTATE {state})" if state else ""
    return f"the server refused a value{code}; its message, which may quote the value, is withheld"


def out_of_range_hint(exc: BaseException, doubles: Sequence[str]) -> str | None:
    """The fix for ``exc`` when it is a value out of double's range and ``doubles``
    (unconstrained numeric columns, read as double) may hold it; None otherwise."""
    if not doubles:
        return None
    if _sqlstate(exc) != _OUT_OF_RANGE and not _DOUBLE_OUT_OF_RANGE.search(str(exc)):
        return None
    named = ", ".join(repr(name) for name in doubles)
    return (
        f"column(s) {named}: a numeric without a precision of at most 38 digits is read "
        "as double, which holds no value beyond ±1.8e308 or nearer zero than 2.2e-308; "
        "clean those values at the source, or drop the column in the policy"
    )
