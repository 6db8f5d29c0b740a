"""How ``safemirror sync`` shows its progress, on stderr: a live display on a terminal;
anywhere else (a log file, a CI job, cron) a line at most every ``LINE_EVERY_S`` seconds,
so a long run shows it is alive without flooding the log."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from safemirror import consoles
from safemirror.sync.writes import Progress as Report

LINE_EVERY_S = 30.0


class _Lines:
    """Rows written so far, printed as one line when ``LINE_EVERY_S`` passed since the
    last (the writers report from several threads)."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._lock = threading.Lock()
        self._rows: dict[str, int] = {}
        self._started = self._printed = time.monotonic()

    def report(self, table: str, rows: int) -> None:
        with self._lock:
            self._rows[table] = self._rows.get(table, 0) + rows
            now = time.monotonic()
            if now - self._printed < LINE_EVERY_S:
                return
            self._printed = now
            line = (
                f"sync: {sum(self._rows.values()):,} rows written so far in "
                f"{len(self._rows)} table(s), {now - self._started:.0f} s; now "
                f"{table}: {self._rows[table]:,}"
            )
        self._console.print(line, markup=False, highlight=False, soft_wrap=True)


@contextmanager
def sync_progress() -> Iterator[Report]:
    """The progress reporter for one run, on ``consoles.err_console``."""
    console = consoles.err_console
    if not console.is_terminal:
        yield _Lines(console).report
        return
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}", markup=False),  # a table's name, as it is
        TextColumn("{task.completed:,.0f} rows"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        tasks: dict[str, int] = {}

        def report(table: str, rows: int) -> None:
            if table not in tasks:
                tasks[table] = int(bar.add_task(table, total=None))
            bar.advance(tasks[table], rows)  # type: ignore[arg-type]

        yield report
