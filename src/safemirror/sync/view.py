"""What the mirror holds before a run: its state, its tables' layout and its text counts."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from safemirror.mirror import textcounts
from safemirror.mirror.manifest import MirrorState, state_of
from safemirror.mirror.tables import Layout, mirror_layout


@dataclass(frozen=True)
class MirrorView:
    state: MirrorState
    layout: Layout
    counts: dict[str, textcounts.Counts]


def read_view(con: duckdb.DuckDBPyConnection, previous: str | None = None) -> MirrorView:
    """The state, layout and stored text counts of the mirror behind ``con``; the tables'
    layout is that of the ``previous`` database when one is attached."""
    layout = mirror_layout(con, previous)
    # The state is the working database's; its tables are the layout's unless another
    # database's layout was read.
    state = state_of(con, layout if previous is None else None)
    return MirrorView(state, layout, textcounts.load(con, layout))
