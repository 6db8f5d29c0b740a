"""``python -m safemirror``: the same command line as ``safemirror``."""

from safemirror.cli import main

main()
