"""Alert sinks: stdout, webhook (JSON POST), email (SMTP) and a command hook."""

from __future__ import annotations

import asyncio
import functools
import os
import smtplib
import ssl
from email.message import EmailMessage
from urllib.parse import urlsplit

import httpx
from rich.console import Console
from rich.markup import escape

from safemirror import __version__
from safemirror.guard.alerts.base import Alert, AlertDeliveryError, Sink
from safemirror.guard.process import CommandFailed, run_command
from safemirror.guard.spec import CommandSpec, EmailSpec, WebhookSpec

EVENT_STYLE = {
    "exposed": "bold red",
    "drift": "yellow",
    "unreachable": "magenta",
    "resolved": "green",
    "remediated": "green",
    "remediation-failed": "bold red",
    "changed": "yellow",
}


class StdoutSink(Sink):
    kind = "stdout"

    def __init__(self, console: Console | None = None, *, as_json: bool = False) -> None:
        self.console = console or Console()
        self.as_json = as_json

    async def send(self, alert: Alert) -> None:
        if self.as_json:
            self.console.print(alert.to_json(), markup=False, highlight=False, soft_wrap=True)
            return
        style = EVENT_STYLE.get(alert.event, "bold")
        note = f" [dim]({escape(alert.note)})[/]" if alert.note else ""
        self.console.print(
            f"{alert.ts} [{style}]{escape(alert.headline)}[/]{note}",
            highlight=False,
            soft_wrap=True,
        )


@functools.cache
def _webhook_tls() -> ssl.SSLContext:
    """The verifying context webhooks are posted with (httpx's default CA bundle), built
    once: loading the bundle blocks the event loop for a noticeable time, and the watch
    loop's probes run on that loop while alerts go out."""
    return httpx.create_ssl_context(trust_env=False)


class WebhookSink(Sink):
    kind = "webhook"

    def __init__(self, spec: WebhookSpec) -> None:
        self.spec, self.timeout = spec, spec.timeout

    @property
    def channel(self) -> str:
        parts = urlsplit(self.spec.url)  # the path may hold a secret token: never shown
        return f"webhook {parts.scheme}://{parts.hostname}:{parts.port or ''}".rstrip(":")

    async def send(self, alert: Alert) -> None:
        headers = {
            "User-Agent": f"safemirror-guard/{__version__}",
            "Content-Type": "application/json",
        }
        if self.spec.token_env:
            token = os.environ.get(self.spec.token_env)
            if not token:
                raise AlertDeliveryError(f"environment variable {self.spec.token_env} is not set")
            headers["Authorization"] = f"Bearer {token}"
        body = alert.to_json().encode()
        async with httpx.AsyncClient(
            timeout=self.timeout, trust_env=False, verify=_webhook_tls()
        ) as http:
            for attempt in (1, 2):
                try:
                    answer = await http.post(self.spec.url, content=body, headers=headers)
                except httpx.HTTPError as exc:
                    problem = f"{type(exc).__name__}"
                else:
                    if answer.status_code < 300:
                        return
                    problem = f"HTTP {answer.status_code}"
                    if answer.status_code < 500:
                        break
                if attempt == 1:
                    await asyncio.sleep(1.0)
        raise AlertDeliveryError(f"{self.channel} failed: {problem}")


def email_message(alert: Alert, spec: EmailSpec) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = f"[safemirror guard] {alert.headline}"[:200]
    msg["From"] = spec.sender
    msg["To"] = ", ".join(spec.to)
    lines = [
        alert.headline,
        "",
        f"target:   {alert.target} ({alert.kind})",
        f"address:  {alert.address}",
        f"holds:    {', '.join(alert.holds) or '-'}",
        f"state:    {alert.previous or 'unknown'} -> {alert.state}",
        f"time:     {alert.ts}",
    ]
    if alert.note:
        lines.append(f"note:     {alert.note}")
    lines += (
        ["", "findings:"]
        + [f"  - [{f['severity']}] {f['title']}: {f['detail']}" for f in alert.findings]
        + ["", "-- ", "JSON:", alert.to_json()]
    )
    msg.set_content("\n".join(lines))
    return msg


class EmailSink(Sink):
    kind = "email"

    def __init__(self, spec: EmailSpec) -> None:
        self.spec, self.timeout = spec, spec.timeout

    @property
    def channel(self) -> str:
        return f"email {self.spec.host}:{self.spec.port}"

    def _deliver(self, msg: EmailMessage, password: str | None) -> None:
        spec = self.spec
        cls = smtplib.SMTP_SSL if spec.ssl else smtplib.SMTP
        with cls(spec.host, spec.port, timeout=spec.timeout) as smtp:
            if spec.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if spec.username:
                smtp.login(spec.username, password or "")
            smtp.send_message(msg)

    async def send(self, alert: Alert) -> None:
        password = None
        if self.spec.password_env:
            password = os.environ.get(self.spec.password_env)
            if password is None:
                raise AlertDeliveryError(
                    f"environment variable {self.spec.password_env} is not set"
                )
        try:
            await asyncio.to_thread(self._deliver, email_message(alert, self.spec), password)
        except (smtplib.SMTPException, OSError) as exc:
            raise AlertDeliveryError(f"{self.channel} failed: {type(exc).__name__}") from None


class CommandSink(Sink):
    kind = "command"

    def __init__(self, spec: CommandSpec) -> None:
        self.spec, self.timeout = spec, spec.timeout

    @property
    def channel(self) -> str:
        return f"command {os.path.basename(self.spec.command[0])}"

    async def send(self, alert: Alert) -> None:
        env = {
            "SAFEMIRROR_ALERT_EVENT": alert.event,
            "SAFEMIRROR_ALERT_TARGET": alert.target,
            "SAFEMIRROR_ALERT_STATE": alert.state,
            "SAFEMIRROR_ALERT_SEVERITY": alert.severity or "",
            "SAFEMIRROR_ALERT_SUMMARY": alert.headline,
        }
        try:
            await run_command(
                self.spec.command,
                timeout=self.timeout,
                stdin=alert.to_json().encode() + b"\n",
                env=env,
            )
        except CommandFailed as exc:
            raise AlertDeliveryError(str(exc)) from None
