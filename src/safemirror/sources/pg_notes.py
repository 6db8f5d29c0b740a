"""What a PostgreSQL source's reads could not guarantee, in words for the run's result."""

from __future__ import annotations

from collections.abc import Collection

_MISSED = (
    "so those transactions cannot hold the watermarks back: a change one commits "
    "after a run, stamped by now() with an earlier start, could be missed"
)


def read_notes(*, standby: bool, unseen: int, filtered: Collection[str]) -> list[str]:
    """The notes for reads taken on a standby (``standby``), beside ``unseen`` sessions
    whose start the role could not see, and of tables whose rows row-level security
    filtered (``filtered``)."""
    notes = []
    if standby:
        notes.append(
            "the source is a standby, which cannot see the transactions open on its "
            f"primary, {_MISSED}; read from the primary, or run 'sync --full' now and then"
        )
    if unseen:
        notes.append(
            f"{unseen} session(s) of other roles on the source database hide when "
            f"their transactions started from the sync's role, {_MISSED}; "
            "GRANT pg_read_all_stats to the role"
        )
    if filtered:
        notes.append(
            f"row-level security applies to the sync's role on {', '.join(sorted(filtered))}: "
            "the mirror holds only the rows that role may see; for every row, read as a "
            "role with BYPASSRLS or give the role a policy that shows them all"
        )
    return notes
