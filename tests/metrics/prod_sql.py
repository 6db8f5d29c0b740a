"""Every metric computed independently, in PostgreSQL, on the production source.

Written from the metric definitions, not from the mirror SQL: raw ids, timestamps with time
of day (compared in UTC), soft-deleted rows excluded with ``deleted_at IS NULL``, periods
from ``generate_series``. Each function returns ``{(period, dim): {cell: value, ...}}`` with
``<cell>__users`` holding the distinct users behind a cell; ``dim`` is None for totals.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import psycopg

Result = dict[tuple[date, str | None], dict[str, float]]

DIMS = {
    "device_activations": {"model": "d.model", "category": "d.category"},
    "active_devices": {
        "model": "d.model",
        "category": "d.category",
        "firmware": "d.firmware_version",
    },
    "failed_connection_rate": {"model": "d.model", "firmware": "d.firmware_version"},
    "camera_connectivity_rate": {"model": "d.model", "firmware": "d.firmware_version"},
    "user_growth": {"country": "u.country"},
    "devices_per_user": {"country": "u.country"},
}


def _label(grain: str, column: str) -> str:
    return f"date_trunc('{grain}', {column} AT TIME ZONE 'UTC')::date"


def _in_range(column: str) -> str:
    return (
        f"{column} >= %(start)s::timestamp AT TIME ZONE 'UTC' "
        f"AND {column} < %(end)s::timestamp AT TIME ZONE 'UTC'"
    )


def _periods(grain: str) -> str:
    return f"""periods AS (
        SELECT p::date AS label, greatest(p, %(start)s::timestamp) AS ps,
               least(p + interval '1 {grain}', %(end)s::timestamp) AS pe
        FROM generate_series(date_trunc('{grain}', %(start)s::timestamp),
                             %(end)s::timestamp - interval '1 day', interval '1 {grain}') AS p)"""


def _dim(metric: str, by: str | None) -> str:
    """The grid key: '(unknown)' when missing, a value in parentheses in one more pair."""
    if by is None:
        return "NULL::text"
    value = f"({DIMS[metric][by]})::text"
    return (
        f"CASE WHEN {value} IS NULL THEN '(unknown)' "
        f"WHEN {value} LIKE '(%%)' THEN '(' || {value} || ')' ELSE {value} END"
    )


def _groups(by: str | None) -> str:
    return "GROUP BY GROUPING SETS ((label, dim), (label))" if by else "GROUP BY label, dim"


def _fetch(url: str, sql: str, args: dict[str, Any]) -> Result:
    out: Result = {}
    with psycopg.connect(url) as conn:
        conn.execute("SET TIME ZONE 'UTC'")
        cur = conn.execute(sql, args)
        names = [d.name for d in cur.description or []]
        for row in cur.fetchall():
            item = dict(zip(names, row, strict=True))
            label, dim = item.pop("label"), item.pop("dim")
            out[(label, dim)] = {k: float(v) if v is not None else 0.0 for k, v in item.items()}
    return out


def device_activations(url: str, grain: str, by: str | None, args: dict[str, Any]) -> Result:
    sql = f"""
        SELECT {_label(grain, "d.activated_at")} AS label, {_dim("device_activations", by)} AS dim,
               count(*) AS activations, count(DISTINCT d.user_id) AS activations__users
        FROM devices d
        WHERE d.deleted_at IS NULL AND {_in_range("d.activated_at")} {_groups(by)}"""
    return _fetch(url, sql, args)


def active_devices(url: str, grain: str, by: str | None, args: dict[str, Any]) -> Result:
    sql = f"""
        SELECT {_label(grain, "e.ts")} AS label, {_dim("active_devices", by)} AS dim,
               count(DISTINCT d.id) AS active_devices,
               count(DISTINCT d.user_id) AS active_devices__users
        FROM connection_events e
        JOIN devices d ON d.id = e.device_id AND d.deleted_at IS NULL
        WHERE e.outcome = 'ok' AND {_in_range("e.ts")}
        {_groups(by)}"""
    return _fetch(url, sql, args)


def failed_connection_rate(url: str, grain: str, by: str | None, args: dict[str, Any]) -> Result:
    bad = "e.outcome <> 'ok'"
    sql = f"""
        SELECT {_label(grain, "e.ts")} AS label, {_dim("failed_connection_rate", by)} AS dim,
               count(*) AS attempts, sum(CASE WHEN {bad} THEN 1 ELSE 0 END) AS failed,
               sum(CASE WHEN {bad} THEN 0 ELSE 1 END) AS succeeded,
               count(DISTINCT d.user_id) AS attempts__users,
               count(DISTINCT CASE WHEN {bad} THEN d.user_id END) AS failed__users,
               count(DISTINCT CASE WHEN {bad} THEN NULL ELSE d.user_id END) AS succeeded__users
        FROM connection_events e
        JOIN devices d ON d.id = e.device_id AND d.deleted_at IS NULL
        WHERE {_in_range("e.ts")}
        {_groups(by)}"""
    return _fetch(url, sql, args)


def camera_connectivity_rate(url: str, grain: str, by: str | None, args: dict[str, Any]) -> Result:
    sql = f"""WITH {_periods(grain)},
        seen AS (
            SELECT DISTINCT {_label(grain, "e.ts")} AS label, e.device_id
            FROM connection_events e WHERE e.outcome = 'ok' AND {_in_range("e.ts")}),
        state AS (
            SELECT p.label, d.id, d.user_id, d.model, d.firmware_version,
                   seen.device_id IS NOT NULL AS ok
            FROM periods p JOIN devices d
              ON d.category = 'camera' AND d.deleted_at IS NULL
             AND d.activated_at IS NOT NULL AND (d.activated_at AT TIME ZONE 'UTC') < p.pe
            LEFT JOIN seen ON seen.label = p.label AND seen.device_id = d.id)
        SELECT d.label, {_dim("camera_connectivity_rate", by)} AS dim,
               count(*) AS cameras, sum(CASE WHEN ok THEN 1 ELSE 0 END) AS connected,
               sum(CASE WHEN ok THEN 0 ELSE 1 END) AS offline,
               count(DISTINCT user_id) AS cameras__users,
               count(DISTINCT CASE WHEN ok THEN user_id END) AS connected__users,
               count(DISTINCT CASE WHEN ok THEN NULL ELSE user_id END) AS offline__users
        FROM state d {_groups(by)}"""
    return _fetch(url, sql, args)


def user_growth(url: str, grain: str, by: str | None, args: dict[str, Any]) -> Result:
    sql = f"""WITH {_periods(grain)}
        SELECT p.label, {_dim("user_growth", by)} AS dim,
               sum(CASE WHEN (u.created_at AT TIME ZONE 'UTC') >= p.ps THEN 1 ELSE 0 END)
                   AS new_users,
               count(*) AS cumulative_users
        FROM periods p JOIN users u
          ON u.deleted_at IS NULL AND (u.created_at AT TIME ZONE 'UTC') < p.pe
        {_groups(by)}"""
    out = _fetch(url, sql, args)
    for cells in out.values():
        cells["new_users__users"] = cells["new_users"]
        cells["cumulative_users__users"] = cells["cumulative_users"]
    return out


def devices_per_user(url: str, grain: str, by: str | None, args: dict[str, Any]) -> Result:
    buckets = ", ".join(
        f"sum(CASE WHEN n = {b} THEN 1 ELSE 0 END) AS users_{b}" for b in range(1, 10)
    )
    sql = f"""WITH {_periods(grain)},
        owned AS (
            SELECT p.label, u.id, {_dim("devices_per_user", by)} AS dim, count(*) AS n
            FROM periods p
            JOIN devices d ON d.deleted_at IS NULL AND d.activated_at IS NOT NULL
                          AND (d.activated_at AT TIME ZONE 'UTC') < p.pe
            JOIN users u ON u.id = d.user_id AND u.deleted_at IS NULL
            GROUP BY p.label, u.id, dim)
        SELECT label, dim, count(*) AS users, sum(n) AS devices, {buckets},
               sum(CASE WHEN n >= 10 THEN 1 ELSE 0 END) AS users_10plus,
               percentile_disc(0.5) WITHIN GROUP (ORDER BY least(n, 10)) AS median
        FROM owned {_groups(by)}"""
    out = _fetch(url, sql, args)
    for cells in out.values():
        cells["users__users"] = cells["devices__users"] = cells["users"]
        for b in [*(f"users_{n}" for n in range(1, 10)), "users_10plus"]:
            cells[f"{b}__users"] = cells[b]
        cells["mean"] = cells["devices"] / cells["users"] if cells["users"] else 0.0
    return out


PRODUCTION: dict[str, Callable[[str, str, str | None, dict[str, Any]], Result]] = {
    "device_activations": device_activations,
    "active_devices": active_devices,
    "failed_connection_rate": failed_connection_rate,
    "camera_connectivity_rate": camera_connectivity_rate,
    "user_growth": user_growth,
    "devices_per_user": devices_per_user,
}
