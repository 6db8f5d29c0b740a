"""Mirrors: where de-identified data lands. DuckDB is the embedded default."""
