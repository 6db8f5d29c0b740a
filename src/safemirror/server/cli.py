"""``safemirror serve`` and ``safemirror keys create|list|revoke``."""

from __future__ import annotations

import ipaddress
import json
import socket
from collections.abc import Callable
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from safemirror.audit import AuditLog
from safemirror.config import ProjectConfig, load_config
from safemirror.consoles import console, emit
from safemirror.errors import ConfigError, UsageError
from safemirror.server.apikeys import KeyRecord, KeyStore, Role, parse_expiry
from safemirror.server.memcap import cap_process_memory, memory_bytes

keys_app = typer.Typer(
    help="API keys for the server: create (shown once), list, revoke.", no_args_is_help=True
)
CONFIG = typer.Option(None, "--config", "-c", help="Project file (default ./safemirror.yaml).")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_listen(config: ProjectConfig, host: str) -> tuple[Path, Path] | None:
    """Refuse a non-loopback address unless TLS is configured; return the TLS files."""
    cert, key = config.server.tls_cert, config.server.tls_key
    if bool(cert) != bool(key):
        raise ConfigError("server.tls_cert and server.tls_key must be set together")
    if cert and key:
        cert, key = config.resolve(cert), config.resolve(key)
        for path in (cert, key):
            if not path.is_file():
                raise ConfigError(f"TLS file {path} does not exist")
        return cert, key
    if not is_loopback(host):
        raise UsageError(
            f"refusing to listen on {host} without TLS: keys and data would "
            "cross the network in clear text",
            hint="set server.tls_cert and server.tls_key in safemirror.yaml, or "
            "listen on 127.0.0.1",
        )
    return None


def check_port_free(host: str, port: int) -> None:
    """Fail early, with a clear message, when the address is already taken."""
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host.strip("[]"), port))
        except OSError as exc:
            raise UsageError(
                f"cannot listen on {host}:{port}: {exc.strerror or exc}",
                hint="pick another port with --port (or server.port in safemirror.yaml)",
            ) from None


def create_key(
    config: ProjectConfig, role: str, name: str, expires: str | None = None, by: str = "cli"
) -> tuple[KeyRecord, str]:
    """Create a key, audit it, return its record and the key (for the demo, too)."""
    record, key = KeyStore(config.server.keys_file).create(
        name, Role.parse(role), parse_expiry(expires)
    )
    AuditLog(config.audit_log).append(
        "keys.create",
        {
            "by": by,
            "id": record.id,
            "name": record.name,
            "role": record.role.name,
            "expires_at": record.public()["expires_at"],
        },
    )
    return record, key


def revoke_key(config: ProjectConfig, key: str, by: str = "cli") -> KeyRecord:
    """Revoke a key by id or name and audit it."""
    record = KeyStore(config.server.keys_file).revoke(key)
    AuditLog(config.audit_log).append(
        "keys.revoke", {"by": by, "id": record.id, "name": record.name}
    )
    return record


def serve(
    config: ProjectConfig,
    host: str | None = None,
    port: int | None = None,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Run the server in the foreground (uvicorn) until interrupted.

    ``on_ready`` gets the base URL once the address and port are checked, before uvicorn
    starts.
    """
    import uvicorn

    from safemirror.server.app import create_app

    host = host or config.server.host
    port = port or config.server.port
    tls = check_listen(config, host)
    check_port_free(host, port)
    memory_bytes(config.server.memory_limit)  # a bad setting stops here, before anything
    app = create_app(config)
    scheme = "https" if tls else "http"
    if on_ready is not None:
        on_ready(f"{scheme}://{host}:{port}/")
    if not KeyStore(config.server.keys_file).records():
        console.print(
            "[yellow]no API keys yet:[/] create one with "
            "'safemirror keys create --role admin --name you'"
        )
    AuditLog(config.audit_log).append(
        "server.start", {"host": host, "port": port, "tls": bool(tls)}
    )
    cap_process_memory(config.server.memory_limit)  # no query can exhaust the machine
    app.state.sm.sql.start()  # ready for the first query (it starts with its own cap)
    console.print(escape(f"safemirror serving on {scheme}://{host}:{port}/ (Ctrl-C to stop)"))
    uvicorn.run(
        app,
        host=host,
        port=port,
        ssl_certfile=str(tls[0]) if tls else None,
        ssl_keyfile=str(tls[1]) if tls else None,
        server_header=False,
        proxy_headers=False,
        log_level="warning",
    )


def serve_command(
    host: str | None = typer.Option(
        None, "--host", help="Address (default server.host, 127.0.0.1); anything else needs TLS."
    ),
    port: int | None = typer.Option(
        None, "--port", min=1, max=65535, help="Port (default server.port, 8765)."
    ),
    config: Path | None = CONFIG,
) -> None:
    """Serve the metrics API, read-only SQL and the dashboard (API keys always required)."""
    serve(load_config(config), host, port)


@keys_app.command("create")
def keys_create(
    role: str = typer.Option(..., "--role", help="viewer, analyst or admin."),
    name: str = typer.Option(..., "--name", help="Who or what holds the key."),
    expires: str | None = typer.Option(
        None, "--expires", help="30d, 12h, 2w or a date (default: never)."
    ),
    config: Path | None = CONFIG,
) -> None:
    """Create a key and print it once; only its hash is stored."""
    record, key = create_key(load_config(config), role, name, expires)
    console.print(
        f"created {record.role.name} key [bold]{escape(record.name)}[/] (id {record.id})"
        + (f", expires {record.expires_at.isoformat()}" if record.expires_at else "")
    )
    console.print("store it now, it is not shown again:")
    typer.echo(key)


@keys_app.command("list")
def keys_list(
    as_json: bool = typer.Option(False, "--json", help="JSON instead of a table."),
    config: Path | None = CONFIG,
) -> None:
    """List keys (never their secrets)."""
    records = [r.public() for r in KeyStore(load_config(config).server.keys_file).records()]
    if as_json:
        emit(json.dumps(records, indent=2))
        return
    table = Table(title="API keys")
    for column in ("id", "name", "role", "status", "created", "expires"):
        table.add_column(column)
    for r in records:
        table.add_row(
            *(escape(str(r[k])) for k in ("id", "name", "role", "status", "created_at")),
            escape(r["expires_at"] or "never"),
        )
    console.print(table)


@keys_app.command("revoke")
def keys_revoke(
    key: str = typer.Argument(..., help="Key id or name."),
    config: Path | None = CONFIG,
) -> None:
    """Revoke a key at once (a running server refuses it at the next request)."""
    record = revoke_key(load_config(config), key)
    console.print(escape(f"revoked key {record.name} ({record.id})"))


def register(root: typer.Typer) -> None:
    """Add ``serve`` and ``keys`` to the root command line."""
    root.command("serve")(serve_command)
    root.add_typer(keys_app, name="keys")
