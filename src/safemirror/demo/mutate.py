"""``mutate``: change a generated database the way production changes, for incremental syncs.

About ``fraction`` of each table changes, at times after everything already there and no
later than ``at``: new users, devices, shares, events, tokens, links and weigh-ins; users
and devices updated (``updated_at = at``) or soft-deleted (``deleted_at = updated_at = at``,
with the user's devices, sessions and links ended too); tokens revoked; integrations
unlinked. The change is one transaction and a pure function of the database, seed and ``at``.
"""

from __future__ import annotations

import dataclasses
import math
import zlib
from datetime import datetime

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from safemirror.demo import strings, vocab
from safemirror.demo.accounts import make_tokens, provider_tokens
from safemirror.demo.activity import make_body_metrics, make_events, make_shares
from safemirror.demo.devices import Devices, firmware, make_devices
from safemirror.demo.rand import pick
from safemirror.demo.schema import TABLES
from safemirror.demo.session import Session
from safemirror.demo.targets import parse_target
from safemirror.demo.timeline import SECOND, between, micros
from safemirror.demo.users import Users, make_users, names, places
from safemirror.errors import UsageError

I64 = npt.NDArray[np.int64]

_CURSORS = (
    ("users", "updated_at"),
    ("devices", "updated_at"),
    ("device_shares", "created_at"),
    ("connection_events", "ts"),
    ("api_tokens", "created_at"),
    ("api_tokens", "revoked_at"),
    ("integrations", "linked_at"),
    ("integrations", "unlinked_at"),
    ("body_metrics", "measured_at"),
)


def mutate(url: str, *, fraction: float, seed: int, at: datetime) -> dict[str, int]:
    """Change about ``fraction`` of the rows of the demo database at ``url``.

    Returns how many rows changed, keyed ``"<table>.inserted"``, ``"<table>.updated"``,
    ``"<table>.deleted"`` (soft), ``"api_tokens.revoked"`` and ``"integrations.unlinked"``.
    """
    if not (math.isfinite(fraction) and 0 < fraction <= 1):
        raise UsageError(f"fraction must be in (0, 1], got {fraction!r}", hint="use e.g. 0.01")
    if not 0 <= seed < 2**32:
        raise UsageError(f"seed must be in 0…{2**32 - 1}, got {seed}", hint="use e.g. 7")
    target = parse_target(url)
    db = Session(target)
    try:
        changes = _Mutation(db, fraction, seed, micros(at)).run()
        db.commit()
    except BaseException:
        db.rollback()
        raise
    finally:
        db.close()
    return changes


def _minimal_users(user_ids: I64, created: I64, now: int, seed: int) -> Users:
    """A Users frame for existing accounts (identity recomputed from the id)."""
    index = user_ids - 1
    first, last, _, _ = names(seed, index)
    n = len(index)
    return Users(
        index=index,
        created=created,
        end=np.full(n, now, dtype=np.int64),
        deleted=np.zeros(n, dtype=bool),
        birth_year=np.zeros(n, dtype=np.int64),
        place=places(seed, index),
        first=first,
        last=last,
    )


class _Mutation:
    def __init__(self, db: Session, fraction: float, seed: int, at: int) -> None:
        self.db, self.fraction, self.seed, self.at = db, fraction, seed, at
        newest = max(
            int(db.micros(db.query(f"SELECT MAX({col}) AS m FROM {table}").column(0))[0])
            for table, col in _CURSORS
        )
        if at <= newest:
            shown = strings.format_timestamps(np.array([newest], dtype=np.int64))[0].as_py()
            raise UsageError(
                f"'at' must be later than the newest change already in the database ({shown})",
                hint="pass a later time",
            )
        self.since = newest + 1
        self.chunk = at // SECOND
        self.rng = np.random.default_rng([seed, zlib.crc32(b"mutate"), self.chunk % 2**32])
        self.size = {t: int(db.scalar(f"SELECT COALESCE(MAX(id), 0) FROM {t}")) for t in TABLES}
        self.changes: dict[str, int] = {}

    def share(self, table: str, part: float) -> int:
        return round(self.fraction * part * self.size[table])

    def sample(self, table: str, where: str, k: int, columns: str = "id") -> pa.Table:
        """Up to ``k`` rows of ``table`` matching ``where``, drawn at random by id."""
        n = self.size[table]
        draw = min(n, 3 * k + 10)
        ids = np.sort(self.rng.choice(n, size=draw, replace=False) + 1) if n else np.array([])
        self.db.temp("_sm_pick", pa.table({"id": pa.array(ids, pa.int64())}))
        rows = self.db.query(
            f"SELECT {columns} FROM {table} WHERE id IN (SELECT id FROM _sm_pick) AND {where} "
            "ORDER BY id"
        )
        return rows.take(pa.array(self.rng.permutation(rows.num_rows)[:k]))

    def update(self, table: str, ids: pa.Array, assignments: str) -> int:
        self.db.temp("_sm_ids", pa.table({"id": ids}))
        self.db.execute(f"UPDATE {table} SET {assignments} WHERE id IN (SELECT id FROM _sm_ids)")
        return len(ids)

    def insert(self, table: str, data: pa.Table) -> None:
        if data.num_rows:
            self.db.ingest(table, data)
        self.changes[f"{table}.inserted"] = data.num_rows

    def run(self) -> dict[str, int]:
        at = self.db.ts(self.at)
        live_users = self.sample("users", "deleted_at IS NULL", self.share("users", 1.2))
        ids = live_users.column("id").to_numpy()
        n_upd, n_del = self.share("users", 0.5), self.share("users", 0.1)
        upd, dele, active = ids[:n_upd], ids[n_upd : n_upd + n_del], ids[n_upd + n_del :]

        new_users = self._new_users()
        per_owner = 2  # a new owner brings about two devices
        existing = max(0, (self.share("devices", 0.4) - per_owner * len(new_users)) // per_owner)
        owners = self._owner_frame(new_users, active, existing)
        devices_t, _ = make_devices(self.seed, self.chunk, owners, self.size["devices"], self.at)
        self.insert("devices", devices_t)
        frame = self._device_frame(self.share("connection_events", 1.0) // 20 + 1)
        self._activity(frame)
        self._tokens_and_links(new_users, active)

        self.changes["users.updated"] = self.update(
            "users",
            pa.array(upd),
            f"two_factor_enabled = NOT two_factor_enabled, updated_at = {at}",
        )
        self._delete_users(pa.array(dele), at)
        self._devices_changes(at)
        for table, live, column, kind in (
            ("api_tokens", f"revoked_at IS NULL AND expires_at > {at}", "revoked_at", "revoked"),
            ("integrations", "unlinked_at IS NULL", "unlinked_at", "unlinked"),
        ):
            key = f"{table}.{kind}"
            wanted = max(0, self.share(table, 0.5) - self.changes.get(key, 0))  # after cascades
            ids = self.sample(table, live, wanted).column("id")
            self.changes[key] = self.changes.get(key, 0) + self.update(
                table, ids, f"{column} = {at}"
            )
        return dict(sorted(self.changes.items()))

    def _new_users(self) -> Users:
        k = max(1, self.share("users", 0.4))
        index = np.arange(self.size["users"], self.size["users"] + k, dtype=np.int64)
        created = np.sort(between(self.rng.random(k), np.full(k, self.since), self.at))
        table, frame = make_users(
            self.seed, self.chunk, index, created, self.at, deleted_share=0.0, late=True
        )
        self.insert("users", table)
        return frame

    def _owner_frame(self, new: Users, active: I64, k: int) -> Users:
        """New users plus ``k`` existing ones, as if they had signed up just now."""
        old = _minimal_users(
            active[:k], np.full(min(k, len(active)), self.since), self.at, self.seed
        )
        merged = {
            f.name: np.concatenate([getattr(new, f.name), getattr(old, f.name)])
            for f in dataclasses.fields(Users)
        }
        return Users(**merged)

    def _device_frame(self, k: int) -> tuple[Users, Devices]:
        """Up to ``k`` live devices, active from ``since`` to ``at``."""
        rows = self.sample(
            "devices", "deleted_at IS NULL", k, "id, user_id, category, model, firmware_version"
        )
        n = rows.num_rows
        user_ids = rows.column("user_id").to_numpy().astype(np.int64)
        users = _minimal_users(user_ids, np.full(n, self.since), self.at, self.seed)
        fw = firmware()

        def lookup(column: str, values: list[str] | tuple[str, ...]) -> I64:
            found = pc.index_in(rows.column(column), pa.array(list(values)))
            return np.asarray(pc.fill_null(found, 0).to_numpy(), dtype=np.int64)

        devices = Devices(
            index=rows.column("id").to_numpy().astype(np.int64) - 1,
            owner=np.arange(n, dtype=np.int64),
            category=lookup("category", vocab.CATEGORIES),
            model=lookup("model", [m[0] for m in vocab.MODELS]),
            firmware=lookup("firmware_version", fw.version),
            activated=np.full(n, self.since, dtype=np.int64),
            last_seen=np.full(n, self.at, dtype=np.int64),
            deleted_at=np.full(n, np.iinfo(np.int64).min, dtype=np.int64),
            counts=np.ones(n, dtype=np.int64),
        )
        return users, devices

    def _activity(self, frame: tuple[Users, Devices]) -> None:
        users, devices = frame
        n = len(devices)
        spread = np.full(n, 1.0 / n) if n else np.zeros(0)
        events = self.rng.multinomial(self.share("connection_events", 1.0), spread) if n else spread
        self.insert(
            "connection_events",
            make_events(
                self.seed,
                self.chunk,
                users,
                devices,
                first_index=self.size["connection_events"],
                counts=events.astype(np.int64),
            ),
        )
        shareable = np.isin(devices.category, (0, 3))
        weights = shareable / max(int(shareable.sum()), 1)
        shares = self.rng.multinomial(self.share("device_shares", 1.0), weights) if n else spread
        self.insert(
            "device_shares",
            make_shares(
                self.seed,
                self.chunk,
                users,
                devices,
                first_index=self.size["device_shares"],
                user_count=self.size["users"],
                counts=shares.astype(np.int64),
            ),
        )
        scales = int((devices.category == vocab.CATEGORIES.index("scale")).sum())
        per_scale = -(-self.share("body_metrics", 1.0) // max(scales, 1))
        self.insert(
            "body_metrics",
            make_body_metrics(
                self.seed,
                self.chunk,
                users,
                devices,
                first_index=self.size["body_metrics"],
                per_scale=per_scale,
            ),
        )

    def _tokens_and_links(self, new: Users, active: I64) -> None:
        k_tokens = max(0, self.share("api_tokens", 0.5) - len(new))
        owners = self._owner_frame(new, active, k_tokens)
        self.insert(
            "api_tokens",
            make_tokens(self.seed, self.chunk, owners, self.size["api_tokens"], self.at),
        )
        k = min(self.share("integrations", 0.5), len(owners))
        who = np.sort(self.rng.choice(len(owners), size=k, replace=False))
        provider = pick(self.rng.random(k), [w for _, w in vocab.PROVIDERS]).astype(np.int64)
        linked = np.sort(between(self.rng.random(k), np.full(k, self.since), self.at))
        index = self.size["integrations"] + np.arange(k, dtype=np.int64)
        access, refresh = provider_tokens(self.rng, self.seed, index, provider)
        ts = pa.timestamp("us", tz="UTC")
        self.insert(
            "integrations",
            pa.table(
                {
                    "id": pa.array(index + 1, pa.int64()),
                    "user_id": pa.array(owners.ids[who], pa.int64()),
                    "provider": pa.array([p for p, _ in vocab.PROVIDERS]).take(pa.array(provider)),
                    "access_token": access,
                    "refresh_token": refresh,
                    "linked_at": pa.array(linked, ts),
                    "unlinked_at": pa.nulls(k, ts),
                }
            ),
        )

    def _delete_users(self, ids: pa.Array, at: str) -> None:
        self.db.temp("_sm_gone", pa.table({"id": ids}))
        gone = "(SELECT id FROM _sm_gone)"
        cascades = (
            ("devices", "deleted_at IS NULL", f"deleted_at = {at}, updated_at = {at}", "deleted"),
            (
                "api_tokens",
                f"revoked_at IS NULL AND expires_at > {at}",
                f"revoked_at = {at}",
                "revoked",
            ),
            ("integrations", "unlinked_at IS NULL", f"unlinked_at = {at}", "unlinked"),
        )
        for table, live, assignment, kind in cascades:
            where = f"user_id IN {gone} AND {live}"
            count = int(self.db.scalar(f"SELECT COUNT(*) FROM {table} WHERE {where}"))
            self.db.execute(f"UPDATE {table} SET {assignment} WHERE {where}")
            self.changes[f"{table}.{kind}"] = count
        self.db.execute(f"UPDATE users SET deleted_at = {at}, updated_at = {at} WHERE id IN {gone}")
        self.changes["users.deleted"] = len(ids)

    def _devices_changes(self, at: str) -> None:
        n_upd = self.share("devices", 0.45)
        n_del = max(0, self.share("devices", 0.15) - self.changes.get("devices.deleted", 0))
        rows = self.sample("devices", "deleted_at IS NULL", n_upd + n_del, "id, model")
        upd, dele = rows.slice(0, n_upd), rows.slice(n_upd)
        fw = firmware()
        model = pc.fill_null(
            pc.index_in(upd.column("model"), pa.array([m[0] for m in vocab.MODELS])), 0
        )
        newest = np.append(fw.start[1:], len(fw.version)) - 1
        versions = pa.array(fw.version).take(pa.array(newest[model.to_numpy()]))
        self.db.temp("_sm_fw", pa.table({"id": upd.column("id"), "firmware_version": versions}))
        self.db.execute(
            "UPDATE devices SET firmware_version = (SELECT f.firmware_version FROM _sm_fw f "
            f"WHERE f.id = devices.id), last_seen_at = {at}, updated_at = {at} "
            "WHERE id IN (SELECT id FROM _sm_fw)"
        )
        self.changes["devices.updated"] = upd.num_rows
        deleted = self.update("devices", dele.column("id"), f"deleted_at = {at}, updated_at = {at}")
        self.changes["devices.deleted"] = self.changes.get("devices.deleted", 0) + deleted
