"""Real servers for the guard tests: started on free loopback ports, stopped afterwards.

Each ``launch_*`` function starts one server with authentication on (or off) in a private
temporary directory and returns a ``Server``; ``Server.wait()`` blocks until its port
answers and ``Server.stop()`` ends its whole process group and removes the directory.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from safemirror.guard import targets as targets_mod
from safemirror.guard.scan import TargetResult, scan
from tests.conftest import free_port, port_open

HOST = "127.0.0.1"


@dataclass
class Server:
    name: str
    port: int
    workdir: Path
    proc: subprocess.Popen[bytes] | None = None
    log: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def wait(self, timeout: float = 30.0, port: int | None = None) -> Server:
        deadline = time.monotonic() + timeout
        port = port or self.port
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                break  # it died (its port taken, a bad option): its log says why
            if port_open(HOST, port, 0.2) and (self.proc is None or self.proc.poll() is None):
                return self  # open, and by this server, not by another holding the port
            time.sleep(0.05)
        tail = (
            self.log.read_text(errors="replace")[-2000:] if self.log and self.log.exists() else ""
        )
        self.stop()
        raise RuntimeError(f"{self.name} did not start on port {port}:\n{tail}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, self.extra.get("stop_signal", signal.SIGTERM))
                self.proc.wait(timeout=15)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        shutil.rmtree(self.workdir, ignore_errors=True)


def _workdir(name: str, owner: str | None = None) -> Path:
    path = Path(tempfile.mkdtemp(prefix=f"guard-{name}-"))
    if owner and os.geteuid() == 0:
        entry = pwd.getpwnam(owner)
        os.chown(path, entry.pw_uid, entry.pw_gid)
    return path


def _prepare(argv: list[str], workdir: Path, **kwargs: Any) -> None:
    """Run a server's set-up step (``initdb`` and the like); if it fails, remove the
    server's directory and say why (its own words, not only its exit status)."""
    done = subprocess.run(argv, capture_output=True, timeout=120, **kwargs)
    if done.returncode != 0:
        shutil.rmtree(workdir, ignore_errors=True)
        said = (done.stdout + done.stderr).decode(errors="replace")[-2000:]
        raise RuntimeError(f"{Path(argv[0]).name} failed (exit {done.returncode}):\n{said}")


def _spawn(
    name: str,
    argv: list[str],
    workdir: Path,
    port: int,
    *,
    env: dict[str, str] | None = None,
    user: str | None = None,
) -> Server:
    log = workdir / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            argv,
            cwd=workdir,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
            start_new_session=True,
            user=user if os.geteuid() == 0 else None,
            group=user if os.geteuid() == 0 else None,
        )
    return Server(name, port, workdir, proc, log)


def self_signed(workdir: Path, owner: str | None = None) -> tuple[Path, Path]:
    """A throw-away certificate and key for TLS servers (EC P-256, one day)."""
    cert, key = workdir / "server.crt", workdir / "server.key"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )
    key.chmod(0o600)
    if owner and os.geteuid() == 0:
        entry = pwd.getpwnam(owner)
        for path in (cert, key):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    return cert, key


# --- servers ------------------------------------------------------------------------------


def launch_redis(
    password: str | None = None,
    port: int | None = None,
    renamed: tuple[str, ...] = (),
    *,
    acl: str | None = None,
    tls: bool = False,
    client_certs: str = "no",
    options: tuple[str, ...] = (),
) -> Server:
    """``acl`` is the default user's ACL rule (``"on nopass -@all +ping"``); with ``tls``
    the port speaks TLS only (no plaintext port), and ``client_certs`` is its
    ``tls-auth-clients`` (``yes``: clients need a certificate signed by its own;
    ``optional``: it asks for one but goes on without); ``options`` are more command-line
    arguments (``"--maxclients", "1"``)."""
    port = port or free_port()
    work = _workdir("redis")
    argv = [
        "redis-server",
        "--port",
        "0" if tls else str(port),
        "--bind",
        HOST,
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(work),
    ]
    if password:
        argv += ["--requirepass", password]
    for command in renamed:  # disabled, as hardening guides advise for INFO, CONFIG, …
        argv += ["--rename-command", command, ""]
    if acl:
        argv += ["--user", "default", "reset", *acl.split()]
    if tls:
        cert, key = self_signed(work)
        argv += ["--tls-port", str(port), "--tls-cert-file", str(cert)]
        argv += ["--tls-key-file", str(key), "--tls-auth-clients", client_certs]
        if client_certs != "no":
            argv += ["--tls-ca-cert-file", str(cert)]
    return _spawn("redis", [*argv, *options], work, port)


def launch_nats(
    user: str | None,
    password: str | None,
    tls: bool = False,
    config: str = "",
    *,
    verify: bool = False,
) -> Server:
    """Without ``user`` no credentials are needed; ``config`` is the text of a
    configuration file (``max_connections: 1``); with ``verify`` (and ``tls``) clients
    need a certificate signed by the server's own."""
    port, work = free_port(), _workdir("nats")
    argv = ["nats-server", "-a", HOST, "-p", str(port)]
    if user is not None and password is not None:
        argv += ["--user", user, "--pass", password]
    if config:
        (work / "nats.conf").write_text(config)
        argv += ["-c", str(work / "nats.conf")]
    if tls:
        cert, key = self_signed(work)
        argv += ["--tls", "--tlscert", str(cert), "--tlskey", str(key)]
        if verify:
            argv += ["--tlsverify", "--tlscacert", str(cert)]
    return _spawn("nats", argv, work, port)


def launch_mosquitto(
    anonymous: bool, *, tls: bool = False, client_certs: bool = False, acl: str | None = None
) -> Server:
    """With ``tls`` the listener speaks TLS only, and with ``client_certs`` too it refuses
    clients without a certificate signed by its own; ``acl`` is the text of its ACL file."""
    port, work = free_port(), _workdir("mosquitto")
    conf = work / "mosquitto.conf"
    text = f"listener {port} {HOST}\nallow_anonymous {str(anonymous).lower()}\n"
    text += "persistence false\n"
    if tls:
        cert, key = self_signed(work)
        key.chmod(0o644)  # mosquitto may drop to its own user
        text += f"certfile {cert}\nkeyfile {key}\n"
        if client_certs:
            text += f"require_certificate true\ncafile {cert}\n"
    if acl is not None:
        (work / "acl").write_text(acl)
        (work / "acl").chmod(0o644)
        text += f"acl_file {work / 'acl'}\n"
    conf.write_text(text)
    conf.chmod(0o644)
    work.chmod(0o755)
    return _spawn("mosquitto", ["mosquitto", "-c", str(conf)], work, port)


def pg_bindir() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return str(Path(found[-1]).parent)
    initdb = shutil.which("initdb")
    return str(Path(initdb).parent) if initdb else None


def launch_postgres(
    password: str,
    tls: bool = True,
    settings: tuple[str, ...] = (),
    method: str = "scram-sha-256",
) -> Server:
    """A cluster with SCRAM (or ``method``) for everyone over TCP; with ``tls`` only
    ``hostssl`` lines (TLS required). ``settings`` are more ``name=value`` server settings
    (``max_connections=3``)."""
    bindir = pg_bindir()
    assert bindir, "initdb not found"
    owner = "postgres" if os.geteuid() == 0 else None
    port, work = free_port(), _workdir("postgres", owner)
    data, pwfile = work / "data", work / "pw"
    pwfile.write_text(password + "\n")
    pwfile.chmod(0o600)
    if owner:
        entry = pwd.getpwnam(owner)
        os.chown(pwfile, entry.pw_uid, entry.pw_gid)
    _prepare(
        [
            f"{bindir}/initdb",
            "-D",
            str(data),
            "-U",
            "postgres",
            "--pwfile",
            str(pwfile),
            "-A",
            "scram-sha-256",
            "--no-sync",
            "--no-instructions",
        ],
        work,
        user=owner,
        group=owner,
    )
    hba = "local all all scram-sha-256\n"
    if tls:
        self_signed(data, owner)
        with (data / "postgresql.conf").open("a") as conf:
            conf.write("ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n")
        hba += f"hostssl all all {HOST}/32 {method}\n"
    else:
        hba += f"host all all {HOST}/32 {method}\n"
    (data / "pg_hba.conf").write_text(hba)
    argv = [
        f"{bindir}/postgres",
        "-D",
        str(data),
        "-p",
        str(port),
        "-k",
        str(work),
        "-c",
        f"listen_addresses={HOST}",
        "-c",
        "fsync=off",
        "-c",
        "shared_buffers=16MB",
    ]
    for setting in settings:
        argv += ["-c", setting]
    server = _spawn("postgres", argv, work, port, user=owner)
    server.extra["socket_dir"] = str(work)
    return server


def launch_mariadb(password: str, *, tls: bool = False, init_sql: str = "") -> Server:
    """Root has ``password``, no anonymous user; ``init_sql`` runs next (as root, at start).
    With ``tls`` the server offers TLS (a throw-away certificate); ``extra["socket"]`` is
    its Unix socket, where root signs in with the password."""
    port, work = free_port(), _workdir("mariadb")
    data, tmp = work / "data", work / "tmp"
    tmp.mkdir()
    # A private tmpdir: a mariadbd starting elsewhere on the machine deletes every
    # ``#sql*`` file in its tmpdir, this bootstrap's temporary tables among them if shared.
    root = ["--user=root"] if os.geteuid() == 0 else []
    _prepare(
        [
            "mariadb-install-db",
            "--no-defaults",
            f"--datadir={data}",
            f"--tmpdir={tmp}",
            "--skip-test-db",
            "--auth-root-authentication-method=normal",
            *root,
        ],
        work,
    )
    init = work / "init.sql"
    init.write_text(
        "DELETE FROM mysql.global_priv WHERE User='';\n"
        f"ALTER USER 'root'@'localhost' IDENTIFIED BY '{password}';\n"
        "FLUSH PRIVILEGES;\n" + init_sql
    )
    argv = [
        "mariadbd",
        "--no-defaults",
        f"--datadir={data}",
        f"--tmpdir={tmp}",
        *root,
        f"--port={port}",
        f"--bind-address={HOST}",
        f"--socket={work}/mysqld.sock",
        f"--pid-file={work}/mysqld.pid",
        f"--init-file={init}",
        "--skip-log-bin",
        "--innodb-buffer-pool-size=16M",
        f"--log-error={work}/error.log",
    ]
    if tls:
        cert, key = self_signed(work)
        argv += [f"--ssl-cert={cert}", f"--ssl-key={key}"]
    server = _spawn("mariadb", argv, work, port)
    server.log = work / "error.log"
    server.extra["socket"] = str(work / "mysqld.sock")
    return server


def rabbitmq_server() -> str:
    """The broker script itself (Debian's /usr/sbin wrapper would switch to the rabbitmq
    user, who cannot write our private directory)."""
    direct = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")
    return str(direct) if direct.exists() else "rabbitmq-server"


def launch_rabbitmq(
    admin_password: str, *, tls: bool = False, user: str = "admin", conf_extra: str = ""
) -> Server:
    """A private RabbitMQ node with the management plugin; only ``user`` (``admin``) exists,
    with ``admin_password``. With ``tls`` it also has a TLS-only AMQP listener
    (``extra["tls_port"]``); ``conf_extra`` are more rabbitmq.conf lines."""
    port, mgmt, dist, work = free_port(), free_port(), free_port(), _workdir("rabbitmq")
    conf = (
        f"listeners.tcp.local = {HOST}:{port}\nmanagement.tcp.port = {mgmt}\n"
        f"management.tcp.ip = {HOST}\ndefault_user = {user}\ndefault_pass = {admin_password}\n"
        "loopback_users = none\n" + conf_extra
    )
    tls_port = free_port() if tls else None
    if tls:
        cert, key = self_signed(work)
        conf += (
            f"listeners.ssl.local = {HOST}:{tls_port}\nssl_options.certfile = {cert}\n"
            f"ssl_options.keyfile = {key}\nssl_options.verify = verify_none\n"
            "ssl_options.fail_if_no_peer_cert = false\n"
        )
    (work / "rabbitmq.conf").write_text(conf)
    (work / "enabled_plugins").write_text("[rabbitmq_management].\n")
    node = f"guardtest{port}@localhost"
    (work / "env.conf").write_text(f"NODENAME={node}\n")
    env = {
        "RABBITMQ_CONF_ENV_FILE": str(work / "env.conf"),
        "RABBITMQ_NODENAME": node,
        "RABBITMQ_CONFIG_FILE": str(work / "rabbitmq.conf"),
        "RABBITMQ_ENABLED_PLUGINS_FILE": str(work / "enabled_plugins"),
        "RABBITMQ_MNESIA_BASE": str(work / "mnesia"),
        "RABBITMQ_LOG_BASE": str(work / "log"),
        "RABBITMQ_DIST_PORT": str(dist),
        "ERL_EPMD_ADDRESS": HOST,
        "HOME": str(work),
        "RABBITMQ_SERVER_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
    }
    server = _spawn("rabbitmq", [rabbitmq_server()], work, port, env=env)
    server.extra["management_port"] = mgmt
    server.extra["tls_port"] = tls_port
    server.extra["stop_signal"] = signal.SIGKILL  # a throw-away node: no graceful shutdown
    return server


# --- targets ------------------------------------------------------------------------------


def targets_file(path: Path, entries: list[dict[str, Any]], **top: Any) -> Path:
    path.write_text(yaml.safe_dump({"targets": entries, **top}, sort_keys=False))
    return path


def probe(entry: dict[str, Any]) -> TargetResult:
    """Validate one targets-file entry and scan it."""
    tfile = targets_mod.validate({"targets": [entry]}, Path("inline.yaml"))
    return scan(tfile.targets).results[0]


def checks(result: TargetResult) -> set[str]:
    return {f.check for f in result.findings}
