"""``safemirror demo``: the end-to-end demo on embedded defaults.

It builds the demo production database (SQLite) in a directory of its own, writes a key
file (0600), the shipped policy and ``safemirror.yaml`` there, then syncs and verifies the
DuckDB mirror, so the user can go on with ``safemirror sync``, ``verify`` and the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from safemirror.config import ProjectConfig
from safemirror.demo.generate import GenerationSummary, generate, validate
from safemirror.demo.project import claim_directory, prepare_project, reset_mirror
from safemirror.errors import SourceError
from safemirror.sources.common import sqlite_url
from safemirror.sync.run import SyncResult, run_sync
from safemirror.sync.writes import Progress

PRODUCTION_DB = "production.db"


@dataclass(frozen=True)
class DemoResult:
    """What the demo made."""

    directory: Path
    production: Path
    generation: GenerationSummary
    project: ProjectConfig
    sync: SyncResult


def run_demo(
    directory: Path,
    scale: float,
    seed: int,
    *,
    progress: bool = False,
    sync_progress: Progress | None = None,
) -> DemoResult:
    """Generate ``directory/production.db`` (replacing an old one), then sync and verify.
    ``directory`` must be new, empty or an earlier demo's (``claim_directory``); its
    project files are written first, so a demo stopped midway is rerun in the same place."""
    validate(scale, seed)
    production = directory / PRODUCTION_DB
    claim_directory(directory, production)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SourceError(
            f"cannot create the demo directory {directory}: {exc.strerror}",
            hint="pass --dir with a writable location",
        ) from None
    project = prepare_project(directory, production)
    summary = generate(
        sqlite_url(production.resolve()), scale=scale, seed=seed, replace=True, progress=progress
    )
    reset_mirror(project)
    result = run_sync(project, full=True, progress=sync_progress)
    return DemoResult(directory, production, summary, project, result)
