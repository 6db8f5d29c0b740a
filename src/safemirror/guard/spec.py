"""The targets file schema (pydantic) and the resolved ``Target`` the probes receive."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from safemirror.guard.address import Endpoint

M = TypeVar("M", bound=BaseModel)

Name = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
Seconds = Annotated[float, Field(gt=0, le=300)]


def _url_path(value: str) -> str:
    if not value.startswith("/") or "#" in value or any(c.isspace() for c in value):
        raise ValueError(f"must be a path from the root, like '/api/health', got {value!r}")
    return value


#: A path an HTTP probe appends to the target's URL: from its root, no spaces or fragment.
UrlPath = Annotated[str, AfterValidator(_url_path)]


class Strict(BaseModel):
    """Base of every schema: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _argv(value: Any) -> Any:
    """Accept a command as a list of arguments or a string split like a shell would."""
    if isinstance(value, str):
        value = shlex.split(value)
    if isinstance(value, list) and not value:
        raise ValueError("the command is empty")
    return value


class Expect(Strict):
    """The baseline a target must keep; deviations are findings."""

    auth: Literal["required", "none"] = "required"
    tls: Literal["required", "optional"] = "optional"
    listen: Literal["loopback", "private", "any"] = "any"
    version: str | None = None  # expected version prefix, e.g. "15." or "7.0"


class Remediation(Strict):
    """A declared command run when the target becomes exposed, then a confirming re-probe."""

    command: list[str]
    timeout: Seconds = 30.0
    confirm_within: Seconds = 15.0
    when: list[Literal["exposed", "drift"]] = ["exposed"]  # not "on": YAML reads it as true
    max_attempts: Annotated[int, Field(ge=1, le=10)] = 1

    _split = field_validator("command", mode="before")(_argv)


class TargetSpec(Strict):
    """One entry of ``targets:``; ``settings`` is validated by the kind's probe class."""

    name: Name
    kind: str
    address: str
    holds: list[str] = []
    expect: Expect = Expect()
    timeout: Annotated[float, Field(gt=0, le=60)] = 3.0
    settings: dict[str, Any] = {}
    remediate: Remediation | None = None

    @field_validator("holds", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class WebhookSpec(Strict):
    """JSON POST of each alert; ``token_env`` names an env var sent as a Bearer token."""

    url: Annotated[str, StringConstraints(pattern=r"^https?://")]
    timeout: Seconds = 5.0
    token_env: str | None = None


class EmailSpec(Strict):
    """SMTP delivery; the password is read from ``password_env``, never from the file."""

    host: str
    port: Annotated[int, Field(gt=0, lt=65536)] = 25
    sender: str
    to: Annotated[list[str], Field(min_length=1)]
    starttls: bool = False
    ssl: bool = False
    username: str | None = None
    password_env: str | None = None
    timeout: Seconds = 10.0

    @model_validator(mode="after")
    def _one_tls_mode(self) -> EmailSpec:
        if self.ssl and self.starttls:
            raise ValueError("choose ssl (implicit TLS, port 465) or starttls, not both")
        return self


class CommandSpec(Strict):
    """A command hook: gets the alert as JSON on stdin and SAFEMIRROR_ALERT_* variables."""

    command: list[str]
    timeout: Seconds = 10.0

    _split = field_validator("command", mode="before")(_argv)


def _listify(value: Any) -> Any:
    return [value] if isinstance(value, dict) else value


class AlertsSpec(Strict):
    """Where the watch loop sends alerts (stdout is on unless ``stdout: false``)."""

    stdout: bool = True
    webhook: list[WebhookSpec] = []
    email: list[EmailSpec] = []
    command: list[CommandSpec] = []

    _lists = field_validator("webhook", "email", "command", mode="before")(_listify)


class FileSpec(Strict):
    """The top level of a targets file."""

    version: Literal[1] = 1
    targets: Annotated[list[Any], Field(min_length=1)]  # entries are checked one by one
    alerts: AlertsSpec = AlertsSpec()


class NoSettings(Strict):
    """A probe kind without settings."""


@dataclass(frozen=True)
class Target:
    """A validated target, ready to probe."""

    name: str
    kind: str
    endpoint: Endpoint
    holds: tuple[str, ...]
    expect: Expect
    timeout: float
    settings: BaseModel
    remediate: Remediation | None = None
    line: int | None = None  # line of the entry in the targets file

    @property
    def address(self) -> str:
        return self.endpoint.display

    def settings_as(self, cls: type[M]) -> M:
        if not isinstance(self.settings, cls):
            raise TypeError(f"target {self.name}: settings are {type(self.settings).__name__}")
        return self.settings
