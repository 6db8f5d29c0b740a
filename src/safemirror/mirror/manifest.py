"""Run manifests and per-table watermarks stored inside the mirror."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from safemirror.errors import SourceError
from safemirror.mirror.schema import OFFLINE
from safemirror.mirror.watermark_seal import damaged, seal, unseal


@dataclass
class RunManifest:
    run_id: str
    started_at: datetime
    finished_at: datetime
    mode: str
    policy_hash: str
    key_fingerprint: str
    source: str
    schema_snapshot: dict[str, dict[str, str]]
    row_counts: dict[str, dict[str, int]]
    duration_s: float

    def summary(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "mode": self.mode,
            "policy_hash": self.policy_hash,
            "key_fingerprint": self.key_fingerprint,
            "source": self.source,
            "row_counts": self.row_counts,
            "duration_s": round(self.duration_s, 3),
        }


@dataclass
class MirrorState:
    """What the live mirror says about itself before a run."""

    last_run: RunManifest | None = None
    runs_since_full: int = 0  # runs recorded after the last full one
    watermarks: dict[str, Any] = field(default_factory=dict)  # filled by open_watermarks
    versions: dict[str, tuple[int, ...]] = field(default_factory=dict)  # read at the mark
    table_hashes: dict[str, str] = field(default_factory=dict)
    # each table's record as stored, and the fingerprint of the key that sealed it
    sealed: dict[str, tuple[str, str]] = field(default_factory=dict)

    def open_watermarks(self, key: bytes, fingerprint: str) -> None:
        """Unseal the watermarks (and the versions read at them) that ``key`` sealed; a
        table's record under another key (a table no run has written since the key
        changed) is left out, so the table is read in full."""
        for name, (stored, sealed_by) in self.sealed.items():
            if sealed_by != fingerprint:
                continue
            value, versions = decode_watermark(unseal(key, name, stored))
            self.watermarks[name] = value
            if versions:
                self.versions[name] = versions


def encode_watermark(value: Any, versions: Sequence[int] = ()) -> str:
    """A watermark as JSON, with the versions of the rows at it that the run read."""
    if isinstance(value, datetime):
        obj: dict[str, Any] = {"t": "datetime", "v": value.isoformat()}
    elif isinstance(value, date):
        obj = {"t": "date", "v": value.isoformat()}
    elif isinstance(value, Decimal):
        obj = {"t": "decimal", "v": str(value)}
    else:
        obj = {"t": "json", "v": value}
    if versions:
        obj["read_at_mark"] = [int(v) for v in versions]
    return json.dumps(obj)


def decode_watermark(text: str) -> tuple[Any, tuple[int, ...]]:
    """``encode_watermark``'s value and versions (none when it recorded none)."""
    obj = json.loads(text)
    kind, value = obj["t"], obj["v"]
    versions = obj.get("read_at_mark") or []
    if not isinstance(versions, list) or not all(
        type(v) is int and 0 <= v < 2**32 for v in versions
    ):
        raise damaged()
    if kind == "datetime":
        value = datetime.fromisoformat(value)
    elif kind == "date":
        value = date.fromisoformat(value)
    elif kind == "decimal":
        value = Decimal(value)
    return value, tuple(versions)


def unreadable(path: Path, exc: Exception, verb: str = "read") -> SourceError:
    """The error for a mirror that DuckDB cannot open or read (``exc``)."""
    return SourceError(
        f"the mirror {path} cannot be {verb}: {exc}",
        hint="if it is corrupt, move it away (its history goes with it) and run "
        "'safemirror sync --full'",
    )


def open_read_only(path: Path) -> duckdb.DuckDBPyConnection:
    """The mirror at ``path``, opened read-only, or an error that says what to do."""
    try:
        return duckdb.connect(str(path), read_only=True, config=OFFLINE)
    except duckdb.Error as exc:
        raise unreadable(path, exc, "opened") from None


def read_state(path: Path) -> MirrorState:
    """The live mirror's last manifest and watermarks (empty state if there is no mirror)."""
    if not path.exists():
        return MirrorState()
    con = open_read_only(path)
    try:
        return state_of(con)
    finally:
        con.close()


def state_of(con: duckdb.DuckDBPyConnection, tables: Iterable[str] | None = None) -> MirrorState:
    """The last manifest and watermarks a mirror connection holds (empty if none).
    ``tables``: the mirror's tables, when the caller has listed them already."""
    state = MirrorState()
    if tables is None:
        tables = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
    present = set(tables)
    if "_sm_runs" in present:
        row: Any = con.execute(
            "SELECT run_id, started_at, finished_at, mode, policy_hash, key_fingerprint, "
            "source, schema_snapshot, row_counts, duration_s, (SELECT count(*) FROM _sm_runs "
            "WHERE finished_at > coalesce((SELECT max(finished_at) FROM _sm_runs WHERE "
            "mode = 'full'), '-infinity')) FROM _sm_runs ORDER BY finished_at DESC LIMIT 1"
        ).fetchall()
        if row:
            row = row[0]
            state.runs_since_full = int(row[10])
            state.last_run = RunManifest(
                str(row[0]),
                row[1],
                row[2],
                str(row[3]),
                str(row[4]),
                str(row[5]),
                str(row[6]),
                json.loads(row[7]),
                json.loads(row[8]),
                float(row[9]),
            )
    if "_sm_state" in present:
        for name, mark, table_hash, sealed_by in con.execute(
            "SELECT table_name, watermark, table_policy_hash, key_fingerprint FROM _sm_state"
        ).fetchall():
            if mark is not None:
                state.sealed[str(name)] = (str(mark), str(sealed_by))
            state.table_hashes[str(name)] = str(table_hash)
    return state


def write_run(con: duckdb.DuckDBPyConnection, manifest: RunManifest) -> None:
    con.execute(
        "INSERT INTO _sm_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            manifest.run_id,
            manifest.started_at,
            manifest.finished_at,
            manifest.mode,
            manifest.policy_hash,
            manifest.key_fingerprint,
            manifest.source,
            json.dumps(manifest.schema_snapshot),
            json.dumps(manifest.row_counts),
            manifest.duration_s,
        ],
    )


def write_watermarks(
    con: duckdb.DuckDBPyConnection,
    marks: Sequence[tuple[str, Any, Sequence[int], str]],
    key: bytes,
    fingerprint: str,
    at: datetime,
) -> None:
    """Record each table's watermark, sealed with ``key``, the versions of the rows at it
    that the run read, and its policy hash (``(table, watermark, versions, hash)``)."""
    if not marks:
        return
    rows = ", ".join("(?, ?, ?, ?, ?)" for _ in marks)
    params: list[Any] = []
    for table, watermark, versions, table_hash in marks:
        encoded = None
        if watermark is not None:
            encoded = seal(key, table, encode_watermark(watermark, versions))
        params += [table, encoded, table_hash, fingerprint, at]
    con.execute(f"INSERT OR REPLACE INTO _sm_state VALUES {rows}", params)
