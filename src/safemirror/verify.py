"""The leak check: prove no sensitive production value is anywhere in the mirror.

1. The mirror holds exactly the tables and columns the policy lets through.
2. Every raw value of the production text columns classified ``drop``, ``secret`` or
   ``pseudonymize`` is matched — exactly and case-folded, alike in every locale
   (``sources.folding``) — against the distinct values of
   every text column of the mirror: the source runs the semi-join in the database, so only
   matches travel (``Source.matching``).
3. The detectors (emails, IPs, MACs, tokens, …) run over the mirror's text values.

A value that at least ``COMMON`` rows of its mirror column share is a category, not a
person's data ("lock" as a device category also being somebody's nickname for a lock):
step 2 skips such values; the detectors still see them.

A finding names the mirror table and column, where the value came from, and how many
distinct values matched — never a value.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from safemirror.errors import AccessDenied
from safemirror.mirror.schema import ENTERED, REBUILT_SUFFIX, is_system, quote
from safemirror.mirror.tables import mirror_layout
from safemirror.mirror.textcounts import count_columns
from safemirror.policy.detectors.registry import mirror_detectors
from safemirror.policy.model import Policy
from safemirror.sources.base import Source, TableInfo
from safemirror.sources.folding import fold_text

DETECTOR_SAMPLE = 200_000  # distinct values per column given to the detectors
COMMON = 11  # rows sharing a mirror value that make it a category


@dataclass(frozen=True)
class Finding:
    table: str
    column: str
    origin: str  # "users.email", "detector:email" or "schema"
    count: int

    def describe(self) -> str:
        if self.origin == "schema":
            return f"  {self.table}.{self.column}: not allowed by the policy"
        return (
            f"  {self.table}.{self.column}: {self.count} distinct value(s) matching {self.origin}"
        )


@dataclass
class VerifyReport:
    findings: list[Finding] = field(default_factory=list)
    production_columns: int = 0  # sensitive production text columns the values are matched in
    mirror_columns: int = 0
    mirror_values: int = 0  # distinct mirror text values (all go through the detectors)
    matched_values: int = 0  # distinct case-folded values fewer than COMMON rows hold

    @property
    def ok(self) -> bool:
        return not self.findings

    def describe(self) -> str:
        return "\n".join(f.describe() for f in self.findings)

    def summary(self) -> str:
        """What a clean check covered, in one sentence."""
        return (
            f"{_counted(self.mirror_values, 'distinct value')} in "
            f"{_counted(self.mirror_columns, 'mirror text column')} passed the detectors, "
            f"and the {self.matched_values:,} of them held by fewer than {COMMON} rows (more "
            "make a category) match no value of the "
            f"{_counted(self.production_columns, 'sensitive production text column')}"
        )


def _counted(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _mirror_layout(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, str]]:
    return {
        table: dict(columns)
        for table, columns in mirror_layout(con).items()
        if not is_system(table) and not table.endswith(REBUILT_SUFFIX)
    }


def _schema_findings(layout: dict[str, dict[str, str]], policy: Policy) -> list[Finding]:
    findings = []
    mirrored = policy.mirrored_tables
    for table, columns in layout.items():
        allowed = set(mirrored[table].mirrored_columns) if table in mirrored else set()
        findings += [
            Finding(table, c, "schema", 0) for c in columns if c != ENTERED and c not in allowed
        ]
    return findings


def _sensitive_text(policy: Policy, live: dict[str, TableInfo]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for table, table_policy in policy.tables.items():
        info = live.get(table)
        if info is None:
            continue
        names = [
            c
            for c, spec in table_policy.columns.items()
            if (col := info.column(c)) is not None and spec.compared(col.type)
        ]
        if names:
            out[table] = names
    return out


TextValues = dict[tuple[str, str], pa.Table]  # (table, column) -> its values ``v``, counts ``n``


def count_text_values(con: duckdb.DuckDBPyConnection, table: str, columns: list[str]) -> TextValues:
    """The distinct non-null values of text ``columns`` of ``table``, with their counts.

    A sync keeps these counts up to date as it writes (``mirror.textcounts``) and hands
    them to ``verify_connection``."""
    return {(table, c): v for c, v in count_columns(con, quote(table), columns).items()}


@dataclass(frozen=True)
class MirrorText:
    """What verify reads from the mirror: its tables' columns and every text column's
    distinct values with their counts."""

    layout: dict[str, dict[str, str]]
    values: TextValues


def read_mirror_text(
    con: duckdb.DuckDBPyConnection, counted: TextValues | None = None
) -> MirrorText:
    """The mirror side of the check, read through ``con``.

    ``counted`` holds text-value counts of tables that have not changed since they were
    counted; every other text column is counted here."""
    layout = _mirror_layout(con)
    values: TextValues = {}
    for table, columns in layout.items():
        for column, dtype in columns.items():
            if dtype != "VARCHAR":
                continue
            found = (counted or {}).get((table, column))
            if found is None:
                found = count_text_values(con, table, [column])[(table, column)]
            values[(table, column)] = found
    return MirrorText(layout, values)


def _refuse_withheld(
    sensitive: dict[str, list[str]], live: dict[str, TableInfo], source: Source
) -> None:
    """Stop when the source's role may not read a sensitive column: verify could not tell
    whether its values reached the mirror."""
    withheld = [
        f"{table}.{name}"
        for table, names in sensitive.items()
        for name in names
        if (col := live[table].column(name)) is not None and not col.readable
    ]
    if withheld:
        raise AccessDenied(
            f"verify compares the mirror with every value of {', '.join(withheld)}, and the "
            f"role of {source.display_url} may not read them",
            hint="grant that role SELECT on those columns (verify matches their values in "
            "the database and copies none of them)",
        )


def check_mirror_text(
    mirror: MirrorText, source: Source, policy: Policy, live: dict[str, TableInfo]
) -> VerifyReport:
    """Check what ``read_mirror_text`` read against the policy, ``source`` and the
    detectors (the mirror itself is not touched here)."""
    sensitive = _sensitive_text(policy, live)
    _refuse_withheld(sensitive, live, source)
    report = VerifyReport(findings=_schema_findings(mirror.layout, policy))
    report.mirror_columns = len(mirror.values)
    report.production_columns = sum(len(c) for c in sensitive.values())
    distinct: dict[tuple[str, str], pa.Array] = {}
    folded: dict[tuple[str, str], pa.Array] = {}
    for key, found in mirror.values.items():
        values = found.column("v").combine_chunks()
        distinct[key] = values
        rare = pc.filter(values, pc.less(found.column("n"), COMMON))
        folded[key] = pc.unique(fold_text(rare))
        report.mirror_values += len(values)
    if any(len(v) for v in folded.values()):
        value_set = pc.unique(pa.concat_arrays([v.cast(pa.string()) for v in folded.values()]))
        report.matched_values = len(value_set)
        _match_production(source, policy, live, folded, value_set, report)
    for (table, column), values in distinct.items():
        sample = values.slice(0, DETECTOR_SAMPLE)
        for detector in mirror_detectors():
            hits = detector.count(sample)
            if hits:
                report.findings.append(Finding(table, column, f"detector:{detector.name}", hits))
    return report


def verify_connection(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    policy: Policy,
    live: dict[str, TableInfo],
    counted: TextValues | None = None,
) -> VerifyReport:
    """Verify the mirror behind ``con`` against ``source`` (see ``read_mirror_text``)."""
    return check_mirror_text(read_mirror_text(con, counted), source, policy, live)


def _match_production(
    source: Source,
    policy: Policy,
    live: dict[str, TableInfo],
    folded: dict[tuple[str, str], pa.Array],
    value_set: pa.Array,
    report: VerifyReport,
) -> None:
    """Ask the source which rare mirror values its sensitive columns hold (in-database)."""
    candidates = [str(v) for v in value_set.to_pylist()]
    for table, columns in _sensitive_text(policy, live).items():
        for column in columns:
            found = source.matching(table, column, candidates)
            if not found:
                continue
            hits = pa.array(sorted(found), pa.string())
            for (m_table, m_column), mirror_values in folded.items():
                count = pc.sum(pc.is_in(mirror_values.cast(pa.string()), value_set=hits)).as_py()
                if count:
                    report.findings.append(
                        Finding(m_table, m_column, f"{table}.{column}", int(count))
                    )
