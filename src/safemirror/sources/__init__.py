"""Production sources: PostgreSQL and SQLite, read as Arrow record batches."""
