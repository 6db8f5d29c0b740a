"""safemirror: de-identified analytics mirrors, exposure guard and breach response."""

import os
from importlib.metadata import PackageNotFoundError, version

# numpy's OpenBLAS threads busy-wait for work and steal cores from DuckDB and the source;
# safemirror's only linear algebra is small (small-cell suppression), so one thread does.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

try:
    __version__ = version("safemirror")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"
