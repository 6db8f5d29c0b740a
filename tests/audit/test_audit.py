"""The audit log's chain catches every kind of tampering."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from safemirror.audit import AuditLog
from safemirror.cli import run
from safemirror.errors import AuditError, ExitCode


def make_log(tmp_path: Path, n: int = 5) -> AuditLog:
    log = AuditLog(tmp_path / "audit.jsonl")
    for i in range(n):
        log.append("test", {"i": i, "note": f"entry {i}"})
    return log


def lines(log: AuditLog) -> list[str]:
    return log.path.read_text().splitlines(keepends=True)


def test_intact_log_verifies_and_file_is_private(tmp_path: Path) -> None:
    log = make_log(tmp_path)
    report = log.verify()
    assert report.ok and report.entries == 5
    assert (log.path.stat().st_mode & 0o077) == 0
    assert [e.data["i"] for e in log.entries()] == [0, 1, 2, 3, 4]


def test_edited_entry_is_caught(tmp_path: Path) -> None:
    log = make_log(tmp_path)
    content = lines(log)
    obj = json.loads(content[2])
    obj["data"]["note"] = "nothing happened"
    content[2] = json.dumps(obj, sort_keys=True, separators=(",", ":")) + "\n"
    log.path.write_text("".join(content))
    report = log.verify()
    assert not report.ok and report.line == 3 and "edited" in (report.problem or "")


@pytest.mark.parametrize("mutation", ["remove", "reorder", "truncate", "garbage"])
def test_structural_tampering_is_caught(tmp_path: Path, mutation: str) -> None:
    log = make_log(tmp_path)
    content = lines(log)
    if mutation == "remove":
        del content[1]
    elif mutation == "reorder":
        content[1], content[2] = content[2], content[1]
    elif mutation == "truncate":
        content = content[:-2]
    else:
        content[3] = "{not json\n"
    log.path.write_text("".join(content))
    assert not log.verify().ok
    with pytest.raises(AuditError):
        log.require_valid()


@pytest.mark.parametrize(
    "damage",
    [b"\xff\xfe not UTF-8\n", b"[1, 2]\n", b'{"seq": "x"}\n'],
    ids=["bytes", "not-an-object", "wrong-types"],
)
def test_a_line_that_is_not_an_entry_is_an_audit_error_not_a_crash(
    tmp_path: Path, damage: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    log = make_log(tmp_path, 3)
    with log.path.open("ab") as handle:
        handle.write(damage)
    report = log.verify()
    assert not report.ok and report.line == 4 and "not a valid audit entry" in str(report.problem)
    with pytest.raises(AuditError, match="line 4"):
        list(log.entries())
    for command in ("verify", "show"):
        assert run(["audit", command, "--log", str(log.path)]) == ExitCode.AUDIT
    assert "line 4" in capsys.readouterr().err


def test_a_head_record_that_is_not_one_is_corrupt(tmp_path: Path) -> None:
    log = make_log(tmp_path, 2)
    for head in (b"[1]", b'{"seq": "two", "hash": "x"}', b"\xff"):
        log.head_path.write_bytes(head)
        assert log.verify().problem == "head record is corrupt"


def test_appends_continue_the_chain_after_reopen(tmp_path: Path) -> None:
    make_log(tmp_path, 3)
    again = AuditLog(tmp_path / "audit.jsonl")
    entry = again.append("more", {"x": 1})
    assert entry.seq == 3
    assert again.verify().ok


def test_cli_audit_verify_exit_codes(tmp_path: Path) -> None:
    log = make_log(tmp_path)
    assert run(["audit", "verify", "--log", str(log.path)]) == ExitCode.OK
    content = lines(log)
    log.path.write_text("".join(content[:2] + content[3:]))
    assert run(["audit", "verify", "--log", str(log.path)]) == ExitCode.AUDIT


def test_group_commit_writes_at_once_and_syncs_in_the_background(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os
    import threading

    synced = threading.Event()
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.set()
        real_fsync(fd)

    log = AuditLog(tmp_path / "audit.jsonl", sync_interval_s=0.05)
    monkeypatch.setattr(os, "fsync", fsync)
    for i in range(20):
        log.append("test", {"i": i})
        # the line is in the file before append returns: a dying process loses nothing
        assert AuditLog(log.path).verify().entries == i + 1
    assert synced.wait(5), "the background syncer never fsynced"
    log.close()
    assert not log._dirty.is_set()
    log.append("test", {"i": 20})  # appending after close starts a new syncer
    log.close()
    report = AuditLog(log.path).verify()
    assert report.ok and report.entries == 21


def test_lines_are_the_canonical_json_of_what_was_given(tmp_path: Path) -> None:
    """Every kind of value is written as ``json.dumps(..., default=str)`` reads back."""
    import hashlib
    from datetime import date
    from enum import IntEnum

    class Level(IntEnum):
        high = 3

    payloads: list[dict[str, object]] = [
        {"who": "a (1)", "rows": 12, "ms": 0.1, "neg": -0.0, "ok": True, "by": None},
        {"when": date(2024, 1, 31), "level": Level.high, "ids": (1, 2), "nested": {"b": 1, "a": 2}},
        {"big": 10**30, "text": "naïve \u2028 \n", "f": 1e300, "x": float("inf")},
    ]
    log = AuditLog(tmp_path / "audit.jsonl", sync_interval_s=0.1)
    prev = "0" * 64
    for seq, data in enumerate(payloads):
        entry = log.append("kind", data)
        payload = json.loads(json.dumps(dict(data), default=str))
        assert entry.data == payload
        assert [type(v) for v in entry.data.values()] == [type(v) for v in payload.values()]
        body = json.dumps(
            {"seq": seq, "ts": entry.ts, "kind": "kind", "data": payload, "prev": prev},
            sort_keys=True,
            separators=(",", ":"),
            default=str,
        )
        digest = hashlib.sha256(body.encode()).hexdigest()
        record = {"seq": seq, "ts": entry.ts, "kind": "kind", "data": payload, "prev": prev}
        expected = json.dumps({**record, "hash": digest}, sort_keys=True, separators=(",", ":"))
        assert entry.hash == digest
        assert lines(log)[seq] == expected + "\n"
        prev = digest
    log.close()
    assert log.verify().ok


@pytest.mark.parametrize("tail", ['{"seq": 3, "ts": "2026', "not json at all", '{"seq": 3}'])
def test_a_damaged_last_line_stops_the_next_append_with_a_clear_error(
    tmp_path: Path, tail: str
) -> None:
    """A crash mid-write, or an edit: no entry can chain to that line, and the log says
    so (exit 7) instead of failing on the JSON."""
    path = tmp_path / "audit.jsonl"
    AuditLog(path).append("one", {"n": 1})
    with path.open("a") as log:
        log.write(tail)
    fresh = AuditLog(path)
    with pytest.raises(AuditError, match="not a valid entry") as caught:
        fresh.check_appendable()
    assert caught.value.exit_code == ExitCode.AUDIT
    with pytest.raises(AuditError, match="not a valid entry"):
        fresh.append("two", {"n": 2})
    assert path.read_text().endswith(tail)  # nothing was added after it
    AuditLog(tmp_path / "none.jsonl").check_appendable()  # no log yet: nothing to chain to


def test_an_audit_log_that_is_not_a_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "audit").mkdir()
    with pytest.raises(AuditError, match="cannot be read: Is a directory"):
        AuditLog(tmp_path / "audit").check_appendable()
