"""Guard sweep vs nmap over the same local targets, and the watch loop's time to detect.

Run from the repository root (needs the local services, redis-server, and Debian's nmap):

    .venv/bin/python bench/bench_guard.py                       # full run, 5 trials at 30 s
    .venv/bin/python bench/bench_guard.py --ttd-trials 0        # sweep vs nmap only

Targets: the machine's PostgreSQL, MariaDB, Redis, RabbitMQ, Mosquitto and NATS with their
default settings, a password-protected Redis, a fake Elasticsearch 7 (open) and OpenSearch
(anonymous role, 403), and a stand-in of safemirror's server answering without a key.
nmap runs once over the same ports with -sV and the matching NSE scripts.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import free_port, port_open  # noqa: E402
from tests.guard.guard_fakes import FakeSearch, SafemirrorStandin  # noqa: E402
from tests.guard.guard_support import launch_redis  # noqa: E402

from safemirror.audit import AuditLog  # noqa: E402
from safemirror.guard import targets as targets_mod  # noqa: E402
from safemirror.guard.alerts import Alert, Dispatcher, Sink  # noqa: E402
from safemirror.guard.scan import scan  # noqa: E402
from safemirror.guard.watch import DEFAULT_INTERVAL, Watcher  # noqa: E402

NSE = (
    "redis-info,mysql-empty-password,mysql-info,pgsql-brute,amqp-info,mqtt-subscribe,"
    "http-auth,http-title"
)

# target name -> (exposure the guard should establish, did nmap establish it?)
# each check gets the port's NSE outputs and nmap's service string
EXPECTED: dict[str, tuple[str, Any]] = {
    "postgres": (
        "trust: no password",
        lambda s, v: "Trusted authentication" in s.get("pgsql-brute", ""),
    ),
    "mariadb": (
        "root, empty password",
        lambda s, v: "empty password" in s.get("mysql-empty-password", ""),
    ),
    "redis": ("no AUTH", lambda s, v: "Version" in s.get("redis-info", "")),
    "rabbitmq": ("guest/guest", lambda s, v: False),  # amqp-info reads properties only
    "mosquitto": ("anonymous subscribe", lambda s, v: "Topics" in s.get("mqtt-subscribe", "")),
    "nats": ("no auth", lambda s, v: False),  # no NSE script; -sV does not recognise NATS
    "es7-open": (
        "indices without credentials",
        lambda s, v: "partly (version from /)" if "Elasticsearch" in v else False,
    ),
    "redis-protected": ("(none: protected)", lambda s, v: "Version" in s.get("redis-info", "")),
    "opensearch-anon": ("anonymous role (403)", lambda s, v: False),
    "safemirror-open": ("API without a key", lambda s, v: False),
}
#: Services nmap fingerprints quickly; the rest (uvicorn, OpenSearch) make -sV try every probe.
RECOGNISED = (
    "postgres",
    "mariadb",
    "redis",
    "rabbitmq",
    "mosquitto",
    "nats",
    "es7-open",
    "redis-protected",
)


def build_targets(fakes: dict[str, Any], protected_port: int) -> list[dict[str, Any]]:
    local = [
        ("postgres", "postgres", 5432),
        ("mariadb", "mysql", 3306),
        ("redis", "redis", 6379),
        ("rabbitmq", "amqp", 5672),
        ("mosquitto", "mqtt", 1883),
        ("nats", "nats", 4222),
    ]
    entries = [
        {"name": n, "kind": k, "address": f"127.0.0.1:{p}", "holds": ["pii"]}
        for n, k, p in local
        if port_open("127.0.0.1", p)
    ]
    entries += [
        {
            "name": "redis-protected",
            "kind": "redis",
            "address": f"127.0.0.1:{protected_port}",
            "holds": ["pii"],
        },
        {
            "name": "es7-open",
            "kind": "elasticsearch",
            "address": fakes["es7"].url,
            "holds": ["pii"],
        },
        {
            "name": "opensearch-anon",
            "kind": "elasticsearch",
            "address": fakes["os"].url,
            "holds": ["pii"],
        },
        {
            "name": "safemirror-open",
            "kind": "safemirror",
            "address": fakes["api"].url,
            "holds": ["pii"],
        },
    ]
    return entries


def port_of(entry: dict[str, Any]) -> int:
    return int(entry["address"].rsplit(":", 1)[1])


def run_nmap(ports: list[int], workdir: Path) -> tuple[float, dict[int, dict[str, Any]]]:
    (workdir / "users").write_text("postgres\n")
    (workdir / "passwords").write_text("postgres\n")
    argv = [
        "nmap",
        "-Pn",
        "-n",
        "-sV",
        "-p",
        ",".join(map(str, ports)),
        "--script",
        NSE,
        "--script-args",
        f"userdb={workdir / 'users'},passdb={workdir / 'passwords'},brute.firstonly=true",
        "-oX",
        "-",
        "127.0.0.1",
    ]
    start = time.monotonic()
    out = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=600).stdout
    elapsed = time.monotonic() - start
    found: dict[int, dict[str, Any]] = {}
    for port in ET.fromstring(out).iter("port"):
        service = port.find("service")
        found[int(port.get("portid", "0"))] = {
            "service": " ".join(
                filter(None, [service.get("name"), service.get("product"), service.get("version")])
            )
            if service is not None
            else "",
            "scripts": {s.get("id", ""): s.get("output", "") for s in port.iter("script")},
        }
    return elapsed, found


def time_guard(tfile: targets_mod.TargetsFile, sweeps: int) -> tuple[list[float], Any]:
    scan(tfile.targets)  # warm-up (imports, first connections)
    times, result = [], None
    for _ in range(sweeps):
        start = time.monotonic()
        result = scan(tfile.targets)
        times.append(time.monotonic() - start)
    return times, result


def time_guard_cli(path: Path, workdir: Path) -> float:
    code = "from safemirror.guard.cli import guard_app; guard_app()"
    argv = [
        sys.executable,
        "-c",
        code,
        "scan",
        "-t",
        str(path),
        "-f",
        "json",
        "--audit-log",
        str(workdir / "cli-audit.jsonl"),
    ]
    start = time.monotonic()
    subprocess.run(argv, capture_output=True, timeout=120, check=False)
    return time.monotonic() - start


class Recorder(Sink):
    kind = "recorder"

    def __init__(self) -> None:
        self.exposed_at: float | None = None

    async def send(self, alert: Alert) -> None:
        if alert.event == "exposed" and self.exposed_at is None:
            self.exposed_at = time.monotonic()


def ttd_trial(interval: float, rng: random.Random, workdir: Path) -> float:
    """Start watching a free port, open a password-less Redis there at a random phase of the
    interval, and return the seconds from the port opening to the alert."""
    port = free_port()
    tfile = targets_mod.validate(
        {
            "targets": [
                {
                    "name": "ttd",
                    "kind": "redis",
                    "address": f"127.0.0.1:{port}",
                    "holds": ["pii"],
                    "timeout": 1,
                }
            ]
        },
        workdir / "ttd.yaml",
    )
    sink = Recorder()
    audit = AuditLog(workdir / "ttd-audit.jsonl")
    watcher = Watcher(tfile, dispatcher=Dispatcher([sink], audit), audit=audit, interval=interval)
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    async def main() -> None:
        await watcher.run(stop)

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    while watcher.sweeps < 1:
        time.sleep(0.01)
    time.sleep(rng.uniform(0, interval))
    redis = launch_redis(port=port).wait()
    opened = time.monotonic()
    try:
        deadline = opened + interval + 15
        while sink.exposed_at is None and time.monotonic() < deadline:
            time.sleep(0.01)
        if sink.exposed_at is None:
            raise RuntimeError("no alert within interval + 15 s")
        return sink.exposed_at - opened
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(interval + 10)
        redis.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sweeps", type=int, default=5, help="timed guard sweeps")
    parser.add_argument("--ttd-trials", type=int, default=5, help="trials at --interval")
    parser.add_argument("--interval", type=float, default=DEFAULT_INTERVAL)
    parser.add_argument("--fast-trials", type=int, default=10, help="trials at a 2 s interval")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    workdir = Path(tempfile.mkdtemp(prefix="bench-guard-"))
    fakes = {
        "es7": FakeSearch("es7", "open"),
        "os": FakeSearch("opensearch", "anonymous"),
        "api": SafemirrorStandin(workdir / "lock", open_=True),
    }
    protected = launch_redis("bench-s3cret").wait()
    runs = {}
    try:
        entries = build_targets(fakes, protected.port)
        import yaml

        for label, subset in (
            ("recognised", [e for e in entries if e["name"] in RECOGNISED]),
            ("all", entries),
        ):
            path = workdir / f"targets-{label}.yaml"
            path.write_text(yaml.safe_dump({"targets": subset}, sort_keys=False))
            tfile = targets_mod.load(path)
            guard_times, result = time_guard(tfile, args.sweeps)
            cli_time = time_guard_cli(path, workdir)
            nmap_time, nmap_found = run_nmap([port_of(e) for e in subset], workdir)
            runs[label] = (subset, guard_times, result, cli_time, nmap_time, nmap_found)
    finally:
        for fake in fakes.values():
            fake.stop()
        protected.stop()

    print(f"\nnmap: nmap -Pn -n -sV -p PORTS --script {NSE} (userdb/passdb: postgres/postgres)\n")
    print(
        f"| targets | guard sweep, median of {args.sweeps} (s) | guard scan CLI, with Python "
        "start-up (s) | nmap (s) | nmap / sweep | nmap / CLI |\n|---|---|---|---|---|---|"
    )
    for label, (subset, guard_times, _, cli_time, nmap_time, _) in runs.items():
        median = statistics.median(guard_times)
        what = f"{len(subset)} ({'fingerprinted by nmap' if label == 'recognised' else 'all'})"
        print(
            f"| {what} | {median:.3f} | {cli_time:.2f} | {nmap_time:.1f} | "
            f"{nmap_time / median:.0f}x | {nmap_time / cli_time:.1f}x |"
        )
    _, _, result, _, _, nmap_found = runs["all"]
    print(
        "\n| target | exposure | guard | nmap sees | nmap establishes it |\n|---|---|---|---|---|"
    )
    for r in result.results:
        name = r.target.name
        expected, nmap_check = EXPECTED[name]
        top = r.findings[0].check if r.findings and r.findings[0].severity > 0 else "—"
        port = nmap_found.get(r.target.endpoint.port, {"service": "?", "scripts": {}})
        verdict = nmap_check(port["scripts"], port["service"])
        hit = verdict if isinstance(verdict, str) else ("yes" if verdict else "no")
        if name == "redis-protected":
            hit = "no (correct)" if hit == "no" else "FALSE POSITIVE"
        print(
            f"| {name} | {expected} | {r.state.value} ({top}) | {port['service'] or '?'} | {hit} |"
        )

    for label, interval, trials in (
        ("default", args.interval, args.ttd_trials),
        ("fast", 2.0, args.fast_trials),
    ):
        if trials <= 0:
            continue
        samples = [ttd_trial(interval, rng, workdir) for _ in range(trials)]
        print(
            f"\ntime to detect, interval {interval:g} s ({label}), {trials} trials: "
            f"median {statistics.median(samples):.2f} s, worst {max(samples):.2f} s, "
            f"samples {', '.join(f'{s:.2f}' for s in samples)}"
        )
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
