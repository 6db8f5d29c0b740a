"""The production schema: seven tables, their columns and DDL for PostgreSQL and SQLite.

Tables are created bare, loaded, and only then given their unique constraints, foreign keys
and indexes (``post_load_ddl``) — building an index once is far cheaper than maintaining it
row by row. SQLite cannot add constraints later, so its primary and foreign keys are declared
in ``CREATE TABLE``; both dialects end with the same keys and the same index names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pyarrow as pa

Dialect = Literal["postgresql", "sqlite"]
Kind = Literal["bigint", "int", "text", "bool", "ts", "float"]

_PG_TYPES: dict[Kind, str] = {
    "bigint": "bigint",
    "int": "integer",
    "text": "text",
    "bool": "boolean",
    "ts": "timestamptz",
    "float": "double precision",
}
_SQLITE_TYPES: dict[Kind, str] = {
    "bigint": "BIGINT",
    "int": "INT",  # SQLite's INTEGER is 64-bit (see sources.sqlite)
    "text": "TEXT",
    "bool": "BOOLEAN",
    "ts": "TIMESTAMP",
    "float": "DOUBLE",
}
_ARROW_TYPES: dict[Kind, pa.DataType] = {
    "bigint": pa.int64(),
    "int": pa.int32(),
    "text": pa.string(),
    "bool": pa.bool_(),
    "ts": pa.timestamp("us", tz="UTC"),
    "float": pa.float64(),
}


@dataclass(frozen=True)
class Column:
    """One column: name, logical kind and whether it may hold NULL."""

    name: str
    kind: Kind
    nullable: bool = True


@dataclass(frozen=True)
class Table:
    """One table: columns, unique columns, foreign keys (column → table) and indexed columns."""

    name: str
    columns: tuple[Column, ...]
    unique: tuple[str, ...] = ()
    foreign: tuple[tuple[str, str], ...] = ()
    indexed: tuple[str, ...] = ()

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


def _cols(spec: str) -> tuple[Column, ...]:
    """Parse ``"name kind[!]"`` items separated by commas; ``!`` means NOT NULL."""
    out = []
    for item in spec.split(","):
        name, raw = item.split()
        kind = raw.rstrip("!")
        if kind not in _PG_TYPES:
            raise ValueError(f"unknown column kind {kind!r}")
        out.append(Column(name, kind, nullable=not raw.endswith("!")))
    return tuple(out)


SCHEMA: tuple[Table, ...] = (
    Table(
        "users",
        _cols(
            "id bigint!, email text!, display_name text, password_hash text, "
            "profile_photo_url text, country text, region text, timezone text, birth_year int, "
            "two_factor_enabled bool, created_at ts!, updated_at ts!, deleted_at ts"
        ),
        unique=("email",),
        indexed=("created_at", "updated_at"),
    ),
    Table(
        "devices",
        _cols(
            "id bigint!, user_id bigint!, mac text!, model text!, category text!, nickname text, "
            "firmware_version text!, wifi_ssid text, local_ip text, activated_at ts!, "
            "last_seen_at ts, updated_at ts!, deleted_at ts"
        ),
        unique=("mac",),
        foreign=(("user_id", "users"),),
        indexed=("user_id", "updated_at"),
    ),
    Table(
        "device_shares",
        _cols(
            "id bigint!, device_id bigint!, owner_user_id bigint!, guest_email text!, "
            "created_at ts!"
        ),
        foreign=(("device_id", "devices"), ("owner_user_id", "users")),
        indexed=("device_id", "owner_user_id", "created_at"),
    ),
    Table(
        "connection_events",
        _cols(
            "id bigint!, device_id bigint!, ts ts!, outcome text!, error_code text, rssi_dbm int, "
            "latency_ms int, client_ip text"
        ),
        foreign=(("device_id", "devices"),),
        indexed=("device_id", "ts"),
    ),
    Table(
        "api_tokens",
        _cols(
            "id bigint!, user_id bigint!, platform text!, access_token text!, refresh_token text!, "
            "created_at ts!, expires_at ts!, revoked_at ts"
        ),
        unique=("access_token", "refresh_token"),
        foreign=(("user_id", "users"),),
        indexed=("user_id", "created_at", "revoked_at"),
    ),
    Table(
        "integrations",
        _cols(
            "id bigint!, user_id bigint!, provider text!, access_token text!, refresh_token text!, "
            "linked_at ts!, unlinked_at ts"
        ),
        unique=("access_token", "refresh_token"),
        foreign=(("user_id", "users"),),
        indexed=("user_id", "linked_at", "unlinked_at"),
    ),
    Table(
        "body_metrics",
        _cols(
            "id bigint!, user_id bigint!, measured_at ts!, weight_kg float!, body_fat_pct float, "
            "bmi float"
        ),
        foreign=(("user_id", "users"),),
        indexed=("user_id", "measured_at"),
    ),
)

TABLES: tuple[str, ...] = tuple(t.name for t in SCHEMA)
BY_NAME: dict[str, Table] = {t.name: t for t in SCHEMA}


def arrow_schema(table: str) -> pa.Schema:
    """The Arrow schema the generator emits for ``table`` (timestamps in UTC microseconds)."""
    return pa.schema(
        [pa.field(c.name, _ARROW_TYPES[c.kind], c.nullable) for c in BY_NAME[table].columns]
    )


def sql_type(kind: Kind, dialect: Dialect) -> str:
    """The declared SQL type of a logical kind in ``dialect``."""
    return (_PG_TYPES if dialect == "postgresql" else _SQLITE_TYPES)[kind]


def create_ddl(table: str, dialect: Dialect) -> str:
    """``CREATE TABLE``: bare in PostgreSQL; with primary and foreign keys in SQLite."""
    spec = BY_NAME[table]
    parts = [
        f"{c.name} {sql_type(c.kind, dialect)}{'' if c.nullable else ' NOT NULL'}"
        for c in spec.columns
    ]
    if dialect == "sqlite":
        parts.append(f"CONSTRAINT {table}_pkey PRIMARY KEY (id)")
        parts += [
            f"CONSTRAINT {table}_{col}_fkey FOREIGN KEY ({col}) REFERENCES {ref} (id)"
            for col, ref in spec.foreign
        ]
    return f"CREATE TABLE {table} (\n  " + ",\n  ".join(parts) + "\n)"


def index_name(table: str, column: str) -> str:
    return f"ix_{table}_{column}"


def post_load_ddl(table: str, dialect: Dialect) -> list[str]:
    """Keys, unique constraints and indexes to add once ``table`` is loaded."""
    spec = BY_NAME[table]
    stmts: list[str] = []
    if dialect == "postgresql":
        stmts.append(f"ALTER TABLE {table} ADD CONSTRAINT {table}_pkey PRIMARY KEY (id)")
        stmts += [
            f"ALTER TABLE {table} ADD CONSTRAINT {table}_{col}_key UNIQUE ({col})"
            for col in spec.unique
        ]
        stmts += [
            f"ALTER TABLE {table} ADD CONSTRAINT {table}_{col}_fkey "
            f"FOREIGN KEY ({col}) REFERENCES {ref} (id)"
            for col, ref in spec.foreign
        ]
    else:
        stmts += [
            f"CREATE UNIQUE INDEX {table}_{col}_key ON {table} ({col})" for col in spec.unique
        ]
    stmts += [f"CREATE INDEX {index_name(table, col)} ON {table} ({col})" for col in spec.indexed]
    return stmts
