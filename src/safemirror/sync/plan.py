"""Plan a sync: the policy against the live schema, fail-closed, before anything is written."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from safemirror.errors import KeyMaterialError, PolicyError
from safemirror.mirror.manifest import MirrorState
from safemirror.policy.check import schema_problems, snapshot_type
from safemirror.policy.model import Policy, TablePolicy
from safemirror.sources.base import TableInfo


@dataclass(frozen=True)
class TablePlan:
    name: str
    policy: TablePolicy
    info: TableInfo
    select: list[str]
    incremental: bool
    since: Any | None
    table_hash: str
    skip_versions: tuple[int, ...] = ()  # rows at exactly ``since`` read already

    @property
    def read_since(self) -> Any | None:
        """Where the read starts: the watermark, less the table's lookback."""
        delta = self.policy.lookback_delta
        if self.since is None or delta is None:
            return self.since
        if isinstance(self.since, date):
            if not isinstance(self.since, datetime):  # whole days back, at least the lookback
                delta = timedelta(days=-(-delta // timedelta(days=1)))
            try:
                return self.since - delta
            except OverflowError:  # a watermark near the first day there is: from it
                if isinstance(self.since, datetime):
                    return datetime.min.replace(tzinfo=self.since.tzinfo)
                return date.min
        raise PolicyError(
            f"table '{self.name}': lookback needs a cursor of timestamps or dates, and its "
            f"watermark is {type(self.since).__name__}",
            hint="remove the lookback, or use a timestamp cursor",
        )

    @property
    def read_skips(self) -> tuple[int, ...]:
        """The versions a read leaves out at its start (none when it starts before the
        watermark: the rows it reads again replace themselves)."""
        looking_back = self.since is not None and self.policy.lookback is not None
        return () if looking_back else self.skip_versions

    @property
    def key_declared(self) -> bool:
        """Whether the policy's key is the source's own primary key."""
        return set(self.policy.primary_key) == set(self.info.primary_key)

    @property
    def key_enforced(self) -> bool:
        """Whether the source itself keeps the policy's key unique as read (its primary
        key, read exactly); a write checks the mirror table for shared keys otherwise."""
        return self.key_declared and self.info.key_read_exactly


def table_policy_hash(policy: TablePolicy) -> str:
    text = json.dumps(policy.content_dump(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def schema_snapshot(policy: Policy, live: dict[str, TableInfo]) -> dict[str, dict[str, str]]:
    """Logical types of every classified column (a numeric's with its precision and
    scale: ``snapshot_type``), as recorded in the run manifest."""
    return {
        name: {c.name: snapshot_type(c) for c in live[name].columns}
        for name in policy.mirrored_tables
        if name in live
    }


def make_plan(
    policy: Policy,
    live: dict[str, TableInfo],
    state: MirrorState,
    *,
    full: bool,
    key_fingerprint: str,
    origin: str,
) -> list[TablePlan]:
    """Check everything that must hold before a single row moves; raise if anything fails."""
    snapshot = state.last_run.schema_snapshot if state.last_run else {}
    found = schema_problems(policy, live, snapshot, full=full)
    problems = [f"  {p.describe()}" for p in found]
    if problems:
        raise PolicyError(
            f"{origin}: the policy does not fit the live source; nothing was written\n"
            + "\n".join(problems),
            hint="do what each line above says (see 'safemirror policy check'), then rerun",
        )
    last = state.last_run
    if last is not None and last.key_fingerprint != key_fingerprint and not full:
        raise KeyMaterialError(
            f"the key (fingerprint {key_fingerprint}) differs from the one the mirror was "
            f"built with ({last.key_fingerprint}); pseudonyms would not join",
            hint="use the original key, or rebuild everything with 'safemirror sync --full'",
        )
    plans = []
    for name, table_policy in policy.mirrored_tables.items():
        table_hash = table_policy_hash(table_policy)
        incremental = (
            not full
            and bool(table_policy.cursor)
            and name in state.watermarks
            and state.table_hashes.get(name) == table_hash
        )
        plans.append(
            TablePlan(
                name=name,
                policy=table_policy,
                info=live[name],
                select=table_policy.selected_columns,
                incremental=incremental,
                since=state.watermarks.get(name) if incremental else None,
                table_hash=table_hash,
                skip_versions=state.versions.get(name, ()) if incremental else (),
            )
        )
    return plans
