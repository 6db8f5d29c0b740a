"""safemirror: de-identified analytics mirrors, exposure guard and breach response."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("safemirror")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"
