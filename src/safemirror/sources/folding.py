"""Case folding for verify's matching: one fold, the same in Arrow and in PostgreSQL.

verify matches the mirror's rare text values with the sensitive production values
ignoring case, folding the mirror's in Arrow and the production's in the database. Both
must fold alike whatever the locale: lower case (each character's own mapping), then
the letters whose lower case depends on the language or the context read as one: 'ı'
(dotless, the Turkish lower case of 'I') and 'i̇' ('i' with a combining dot, the lower
case of 'İ' outside Turkish) as 'i', and 'ς' (a word's final sigma) as 'σ'; and 'ß',
whose upper case is 'SS', as 'ss'. So 'ILKER', 'ılker' and 'ilker' fold alike in a
Turkish database as in any other, as 'ΟΔΟΣ' and 'οδος' do, and 'STRASSE' and 'straße'.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

# (from, to) after lower case, in this order: 'i̇' must become 'i' before 'ı' does.
_SAME = (("i\u0307", "i"), ("\u0131", "i"), ("\u03c2", "\u03c3"), ("\u00df", "ss"))

# The probe a database's lower case must pass for its fold to be this one: Latin accents,
# the Turkish capitals and a final sigma.
PROBE = ("IÀÉÎØÜİΣΟΔΟΣ", "iàéîøüiσοδοσ")


def fold_text(values: pa.Array) -> pa.Array:
    """``values`` (strings) folded: see the module docstring."""
    folded = pc.utf8_lower(values)
    for old, new in _SAME:
        folded = pc.replace_substring(folded, old, new)
    return folded


def fold_str(value: str) -> str:
    """One string folded as ``fold_text`` folds it."""
    return str(fold_text(pa.array([value], pa.string()))[0].as_py())


def fold_sql(expr: str, collation: str) -> str:
    """SQL folding the text ``expr`` as ``fold_text`` does, with PostgreSQL's ``lower``
    in ``collation`` (a quoted name); ``PROBE`` says whether that collation can. A value
    all in ASCII (as many as its bytes are its characters) folds to its ASCII lower case,
    which ``lower`` in ``"C"`` computes byte by byte: the Unicode lower case and the
    replacements, a few times dearer, are left to the values that need them."""
    folded = f"lower(({expr}) COLLATE {collation})"
    for old, new in _SAME:
        folded = f"replace({folded}, {sql_literal(old)}, {sql_literal(new)})"
    ascii_lower = f'(lower(({expr}) COLLATE "C") COLLATE {collation})'
    return (
        f"CASE WHEN octet_length({expr}) = char_length({expr}) THEN {ascii_lower} ELSE {folded} END"
    )


def sql_literal(text: str) -> str:
    """``text`` as a PostgreSQL Unicode-escaped literal (ASCII whatever the client
    encoding; a server that does not encode UTF-8 refuses it, and its lower case does
    not pass ``PROBE`` anyway)."""
    escaped = "".join(c if c.isascii() and c.isalnum() else f"\\{ord(c):04X}" for c in text)
    return f"U&'{escaped}'"
