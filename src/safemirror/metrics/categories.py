"""Dimension values: the grid's keys for them, their published value and their label.

Three labels are reserved: ``(total)`` (a period's total row), ``(unknown)`` (a missing,
NULL value) and ``(empty)`` (the empty string). A real value that looks like one — any
value wrapped in parentheses, or in double quotes — is labelled between double quotes, so
no two categories ever share a label. JSON publishes the exact value (``null`` when
missing) and says which row is the total with ``total``.
"""

from __future__ import annotations

TOTAL = "(total)"
UNKNOWN = "(unknown)"
EMPTY = "(empty)"


def _wrapped(value: str, first: str, last: str) -> bool:
    return len(value) >= 2 and value[0] == first and value[-1] == last


def key_sql(expression: str) -> str:
    """SQL for the grid key of a dimension value: ``(unknown)`` when missing, a real value
    in parentheses put in one more pair (``(x)`` → ``((x))``), any other value itself."""
    text = f"CAST({expression} AS VARCHAR)"
    return (
        f"CASE WHEN {text} IS NULL THEN '{UNKNOWN}' "
        f"WHEN {text} LIKE '(%)' THEN '(' || {text} || ')' ELSE {text} END"
    )


def value_of(key: str | None) -> str | None:
    """The exact value behind a grid key (``None`` for a missing value or a total)."""
    if key is None or key == UNKNOWN:
        return None
    return key[1:-1] if _wrapped(key, "(", ")") else key


def label(value: str | None, total: bool = False) -> str:
    """How a row's dimension value is shown outside JSON: one label per category."""
    if total:
        return TOTAL
    if value is None:
        return UNKNOWN
    if value == "":
        return EMPTY
    if _wrapped(value, "(", ")") or _wrapped(value, '"', '"'):
        return f'"{value}"'
    return value
