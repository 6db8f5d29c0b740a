"""What the demo's sync copied, coarsened, pseudonymized and removed, as a Rich table."""

from __future__ import annotations

from rich.table import Table

from safemirror.demo.project import columns_by_action
from safemirror.policy.model import Policy
from safemirror.sync.run import SyncResult


def policy_table(policy: Policy, result: SyncResult) -> Table:
    """One row per table: rows in the mirror and its columns by what happened to them."""
    table = Table(title="What reached the mirror", title_justify="left")
    table.add_column("table", style="bold")
    table.add_column("rows", justify="right")
    for header in ("copied", "generalized", "pseudonymized", "removed (drop/secret)"):
        table.add_column(header)
    for name, groups in columns_by_action(policy).items():
        outcome = result.tables.get(name)
        rows = f"{outcome.rows_in_mirror:,}" if outcome else "skipped"
        table.add_row(
            name,
            rows,
            ", ".join(groups["copied"]),
            ", ".join(groups["generalized"]),
            ", ".join(groups["pseudonymized"]),
            ", ".join(groups["removed"]),
        )
    return table
