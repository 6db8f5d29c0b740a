"""``safemirror demo``: the end-to-end demo on embedded defaults.

Today it builds the demo production database (SQLite) in a directory of its own; as sync,
metrics and the server land, ``run_demo`` grows to run them too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from safemirror.demo.generate import GenerationSummary, generate
from safemirror.errors import SourceError

PRODUCTION_DB = "production.db"


@dataclass(frozen=True)
class DemoResult:
    """What the demo made."""

    directory: Path
    production: Path
    generation: GenerationSummary


def run_demo(directory: Path, scale: float, seed: int, *, progress: bool = False) -> DemoResult:
    """Create ``directory`` and generate ``directory/production.db`` (replacing an old one)."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SourceError(
            f"cannot create the demo directory {directory}: {exc.strerror}",
            hint="pass --dir with a writable location",
        ) from None
    production = directory / PRODUCTION_DB
    summary = generate(
        f"sqlite:///{production.resolve()}", scale=scale, seed=seed, replace=True, progress=progress
    )
    return DemoResult(directory=directory, production=production, generation=summary)
