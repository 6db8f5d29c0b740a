"""Column operators: pure functions from an Arrow array to an Arrow array.

Each operator lives in its own module and registers itself in ``registry``; ``apply``
runs a table policy over a record batch. Every engine reuses these functions.
"""
