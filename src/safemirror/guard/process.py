"""Run a declared command (alert hook, remediation) without a shell, bounded in time."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Mapping, Sequence

OUTPUT_LIMIT = 2000  # characters of stderr kept for the operator (never audited)


class CommandFailed(Exception):
    """The command could not start, timed out or exited non-zero.

    The message never includes the command's output (it could hold secrets and is
    audited); the last lines of stderr are kept apart in ``stderr`` for the console.
    """

    def __init__(self, message: str, stderr: str = "") -> None:
        super().__init__(message)
        self.stderr = stderr


async def run_command(
    argv: Sequence[str],
    *,
    timeout: float,
    stdin: bytes | None = None,
    env: Mapping[str, str] | None = None,
) -> int:
    """Run ``argv`` in its own process group; kill the group on timeout. Returns 0."""
    full_env = {**os.environ, **(env or {})}
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            env=full_env,
            start_new_session=True,
        )
    except OSError as exc:
        raise CommandFailed(f"cannot run {argv[0]!r}: {exc.strerror or exc}") from None
    try:
        _, err = await asyncio.wait_for(proc.communicate(stdin), timeout)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        await proc.wait()
        raise CommandFailed(f"{argv[0]!r} did not finish within {timeout:g} s") from None
    if proc.returncode != 0:
        tail = err.decode("utf-8", "replace").strip()[-OUTPUT_LIMIT:]
        raise CommandFailed(f"{argv[0]!r} exited with {proc.returncode}", tail)
    return 0
