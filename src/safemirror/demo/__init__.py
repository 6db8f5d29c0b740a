"""The demo production system: a deterministic, realistic smart-home database generator.

``generate.generate`` builds the seven production tables into SQLite or PostgreSQL;
``mutate.mutate`` changes them the way production does; ``cli`` is ``safemirror demo``.
"""
