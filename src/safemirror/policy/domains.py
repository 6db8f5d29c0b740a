"""The pseudonymization domains ``policy suggest`` gives identifiers.

Each table numbers its own rows: its key gets a domain of its own, made from its name in
the singular (``users`` -> ``user``), in any script (``ÉTÉ`` -> ``été``), and made unique
with a suffix (``user`` and ``users`` -> ``user``, ``user_2``): two tables sharing one would
give their unrelated ids matching pseudonyms. A column that references a table (a foreign
key, or a name such as ``user_id`` that one table's name explains) takes that table's
domain; any other identifier takes one made from its own name, never another table's.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

from safemirror.policy.model import is_domain
from safemirror.sources.base import TableInfo

_ID_SUFFIX = re.compile(r"_?(id|uuid|guid)$")


def singular(table: str) -> str:
    """``users`` -> ``user``, ``categories`` -> ``category``, ``addresses`` -> ``address``;
    a word that only ends in s (``status``, ``analysis``) stays as it is."""
    if table.endswith("ies") and len(table) > 3:
        return table[:-3] + "y"
    if table.endswith(("sses", "xes", "zes", "ches", "shes", "uses")):
        return table[:-2]
    if len(table) > 2 and table.endswith("s") and not table.endswith(("ss", "us", "is")):
        return table[:-1]  # not status, analysis: nor a table named s
    return table


def _kept(char: str) -> bool:
    return char.isalnum() or unicodedata.category(char)[0] == "M"


def domain_name(text: str) -> str:
    """A valid pseudonymization domain (``model.is_domain``) made from ``text``: lower
    case, composed, each run of other characters than letters, digits and marks as ``_``."""
    folded = unicodedata.normalize("NFC", unicodedata.normalize("NFC", text).lower())
    cleaned = "".join(c if _kept(c) else " " for c in folded)
    name = "_".join(cleaned.split()) or "value"
    name = name if name[0].isalpha() else f"d_{name}"
    return name if is_domain(name) else "value"


def _base(name: str) -> str:
    """The domain a table or name stem stands for before it is made unique."""
    return domain_name(singular(unicodedata.normalize("NFC", name).lower()))


class Domains:
    """The domains of a source's identifiers (see the module docstring)."""

    def __init__(self, tables: Mapping[str, TableInfo]) -> None:
        self._tables = tables
        self._own: dict[str, str] = {}  # table -> its own domain
        self._named: dict[str, list[str]] = {}  # base -> the tables whose name gives it
        for table in sorted(tables):
            base = _base(table)
            self._named.setdefault(base, []).append(table)
            self._own[table] = self._free(base)
        self._longest_first = sorted(self._named, key=len, reverse=True)

    def _free(self, base: str) -> str:
        """``base``, or ``base_2``, ``base_3``, ... : the first no table has taken."""
        taken = set(self._own.values())
        domain, n = base, 2
        while domain in taken:
            domain, n = f"{base}_{n}", n + 1
        return domain

    def of_table(self, table: str) -> str:
        """The domain ``table`` numbers its rows in."""
        return self._own.get(table) or self._free(_base(table))

    def of_id(self, column: str, table: str) -> str:
        """The domain of an identifier ``table.column`` that references nothing declared:
        a table's whole primary key (or a bare ``id``) numbers its rows; otherwise the
        one table its name stem names (``owner_user_id`` -> ``users``), else a domain of
        the stem's own that no table has."""
        info = self._tables.get(table)
        stem = _ID_SUFFIX.sub("", column.lower())
        if not stem or (info is not None and tuple(info.primary_key) == (column,)):
            return self.of_table(table)  # orders.id and events.id number different things
        wanted = _base(stem)
        for base in self._longest_first:
            if wanted == base or wanted.endswith(f"_{base}"):
                named = self._named[base]
                return self._own[named[0]] if len(named) == 1 else self._free(wanted)
        return self._free(wanted)
