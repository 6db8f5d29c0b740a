"""A ceiling on the server process's memory, so that no query can take the machine down.

DuckDB's ``memory_limit`` bounds its buffer manager only. A value that one expression
builds — ``repeat('x', 3e9)``, ``range(3e8)``, ``list_resize([1], 1e9)``, a string doubled
in a recursive CTE — is allocated outside it, and neither the limit nor the query's timer
can stop it: one such query grew a server to 15 GB and had it killed. ``safemirror serve``
therefore caps the process's data segment (``RLIMIT_DATA``: heap and private writable
mappings) at what it uses when it starts, plus twice ``memory_limit``, plus a fixed
allowance for threads, key hashing and responses; the SQL worker (``sqlchild``) caps its
own the same way, with a smaller allowance. An allocation past it fails: DuckDB reports it
as out of memory, the query is refused with a 400 and the server keeps serving.
"""

from __future__ import annotations

import os
import re
import resource
from pathlib import Path

from safemirror.errors import ConfigError

HEADROOM = 2 << 30  # threads' stacks, argon2 checks, responses being encoded
_UNITS = {
    "b": 1,
    "k": 1000,
    "kb": 1000,
    "m": 1000**2,
    "mb": 1000**2,
    "g": 1000**3,
    "gb": 1000**3,
    "t": 1000**4,
    "tb": 1000**4,
    "kib": 1 << 10,
    "mib": 1 << 20,
    "gib": 1 << 30,
    "tib": 1 << 40,
}
_SIZE = re.compile(r"\s*(\d+(?:\.\d*)?)\s*([a-z]*)\s*", re.IGNORECASE)
_PERCENT = re.compile(r"\s*(\d+(?:\.\d*)?)\s*%\s*")


def physical_memory() -> int:
    """Bytes of RAM in the machine."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def memory_bytes(text: str) -> int:
    """``server.memory_limit`` in bytes, read as DuckDB reads it (``1GB``, ``512MiB``,
    ``80%`` of the RAM; ``none`` or ``-1``: DuckDB's default, 80 %)."""
    value = text.strip().lower()
    if value in ("none", "-1"):
        value = "80%"
    percent = _PERCENT.fullmatch(value)
    if percent:
        return int(physical_memory() * float(percent.group(1)) / 100)
    size = _SIZE.fullmatch(value)
    if size is None or size.group(2) not in _UNITS:
        raise ConfigError(
            f"server.memory_limit '{text}' is not a memory size",
            hint="use a number and a unit, like 1GB, 512MB or 2GiB",
        )
    return int(float(size.group(1)) * _UNITS[size.group(2)])


def data_in_use() -> int:
    """The process's data segment now (``VmData``), 0 where ``/proc`` has no such line."""
    try:
        status = Path("/proc/self/status").read_text(encoding="ascii", errors="replace")
    except OSError:
        return 0
    found = re.search(r"^VmData:\s+(\d+)\s+kB", status, re.MULTILINE)
    return int(found.group(1)) * 1024 if found else 0


def cap_process_memory(memory_limit: str, *, headroom: int = HEADROOM) -> int:
    """Lower the soft ``RLIMIT_DATA`` to the ceiling for ``memory_limit`` (what the process
    uses now, twice the limit and ``headroom``); return it (bytes).

    A lower limit already in place is kept; the hard limit is never touched.
    """
    ceiling = data_in_use() + 2 * memory_bytes(memory_limit) + headroom
    soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
    if hard != resource.RLIM_INFINITY:
        ceiling = min(ceiling, hard)
    if soft == resource.RLIM_INFINITY or soft > ceiling:
        resource.setrlimit(resource.RLIMIT_DATA, (ceiling, hard))
        return ceiling
    return soft
