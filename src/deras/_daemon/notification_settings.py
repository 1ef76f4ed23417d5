"""The ``notifications:`` section of ``deras.yaml``: which run events go to which channels.

.. code-block:: yaml

    notifications:
      events: [run_failure]       # the default of every channel
      webhook:                    # or ``webhooks:`` with a list of these
        url: https://hooks.example/x
        headers: {Authorization: "env:HOOK_TOKEN"}
        timeout_seconds: 5
      email:
        smtp_host: smtp.example.com
        starttls: true
        username: deras
        password: env:SMTP_PASSWORD
        sender: deras@example.com
        recipients: [ops@example.com]

A value written ``env:NAME`` (a webhook's ``url`` or header values, the SMTP ``username`` and
``password``) is read from the environment when a notification is sent, so secrets stay out of
the file and a rotated secret needs no restart. Each channel may set its own ``events``.
"""

from __future__ import annotations

import os
import types
import typing
from typing import Annotated, Any, Literal, Self, get_args
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .._core.errors import ConfigError

NotificationEvent = Literal["run_failure", "run_success", "run_retry_exhausted", "check_failure"]
NOTIFICATION_EVENTS: tuple[NotificationEvent, ...] = get_args(NotificationEvent)

ENV_PREFIX = "env:"

_Events = Annotated[list[NotificationEvent], Field(min_length=1)]
_Timeout = Annotated[float, Field(gt=0, le=300)]


def resolve_env(value: str, what: str) -> str:
    """``value``, or the environment variable it names when written ``env:NAME``.

    >>> resolve_env("plain", "password")
    'plain'
    """
    if not value.startswith(ENV_PREFIX):
        return value
    name = value[len(ENV_PREFIX) :]
    resolved = os.environ.get(name)
    if resolved is None:
        raise ConfigError(f"{what}: environment variable {name!r} is not set")
    return resolved


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class WebhookSettings(_Section):
    """One webhook: a JSON ``POST`` of each notification to ``url``."""

    url: str
    headers: dict[str, str] = Field(default_factory=dict)
    timeout_seconds: _Timeout = 5.0
    events: _Events | None = None  # None: the section's ``events``

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        if not url.startswith(ENV_PREFIX):
            check_http_url(url)
        return url

    @field_validator("headers")
    @classmethod
    def _header_names(cls, headers: dict[str, str]) -> dict[str, str]:
        for name, value in headers.items():
            if not name or any(c in name for c in ":\r\n ") or any(c in value for c in "\r\n"):
                raise ValueError(f"header {name!r}: names may not be empty or hold ':', spaces or newlines")
        return headers


class EmailSettings(_Section):
    """E-mail over SMTP: plain, ``starttls`` or implicit TLS (``ssl``), with an optional login.

    ``smtp_port`` defaults to 465 with ``ssl`` and to 25 otherwise.
    """

    smtp_host: str = Field(min_length=1)
    smtp_port: Annotated[int, Field(ge=1, le=65535)] | None = None
    starttls: bool = False
    ssl: bool = False
    username: str | None = None
    password: str | None = None
    sender: str
    recipients: Annotated[list[str], Field(min_length=1)]
    timeout_seconds: _Timeout = 10.0
    events: _Events | None = None

    @field_validator("sender")
    @classmethod
    def _sender_address(cls, sender: str) -> str:
        return _address(sender)

    @field_validator("recipients")
    @classmethod
    def _recipient_addresses(cls, recipients: list[str]) -> list[str]:
        return [_address(r) for r in recipients]

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.ssl and self.starttls:
            raise ValueError("set 'ssl' (implicit TLS, port 465) or 'starttls' (port 587), not both")
        if (self.username is None) != (self.password is None):
            raise ValueError("set both 'username' and 'password' to log in, or neither")
        return self

    @property
    def port(self) -> int:
        if self.smtp_port is not None:
            return self.smtp_port
        return 465 if self.ssl else 25


def _default_events() -> list[NotificationEvent]:
    return ["run_failure"]


class NotificationSettings(_Section):
    """The whole ``notifications:`` section; no channel configured means no notifications."""

    events: _Events = Field(default_factory=_default_events)
    webhook: WebhookSettings | None = None
    webhooks: list[WebhookSettings] = Field(default_factory=list)
    email: EmailSettings | None = None

    @model_validator(mode="after")
    def _one_webhook_key(self) -> Self:
        if self.webhook is not None and self.webhooks:
            raise ValueError("give 'webhook' (one) or 'webhooks' (a list), not both")
        return self

    @classmethod
    def from_config(cls, section: dict[str, Any] | None) -> NotificationSettings:
        """Parse the ``notifications:`` mapping of ``deras.yaml`` (``None``: nothing configured).

        >>> NotificationSettings.from_config({"webhook": {"url": "https://h.example/x"}}).events
        ['run_failure']
        >>> NotificationSettings.from_config({"webhook": {"ur": "https://h.example/x"}})
        Traceback (most recent call last):
        ...
        deras._core.errors.ConfigError: notifications: 2 problems:
          notifications.webhook.url: required
          notifications.webhook.ur: unknown setting; known: events, headers, timeout_seconds, url
        """
        if section is None:
            return cls()
        if not isinstance(section, dict):
            raise ConfigError(f"notifications: expected a mapping of settings, got {type(section).__name__}")
        try:
            return cls.model_validate(section)
        except ValidationError as err:
            problems = [_describe(e) for e in err.errors()]
        if len(problems) == 1:  # the problem names its key, which starts with "notifications"
            raise ConfigError(problems[0])
        raise ConfigError(
            f"notifications: {len(problems)} problems:\n" + "\n".join(f"  {p}" for p in problems)
        )

    @property
    def all_webhooks(self) -> list[WebhookSettings]:
        return [self.webhook] if self.webhook is not None else list(self.webhooks)

    def events_of(self, channel: WebhookSettings | EmailSettings) -> frozenset[str]:
        """The events ``channel`` is sent: its own ``events``, else the section's."""
        return frozenset(channel.events if channel.events is not None else self.events)


def check_http_url(url: str) -> None:
    """Raise ``ValueError`` unless ``url`` is an ``http``/``https`` URL with a host."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{redact_url(url)!r} is not an http:// or https:// URL with a host")


def redact_url(url: str) -> str:
    """``url`` without user, password and query, for messages and logs.

    >>> redact_url("https://user:secret@hooks.example:8443/x?token=abc")
    'https://hooks.example:8443/x'
    """
    if url.startswith(ENV_PREFIX):
        return url
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # IPv6
        host = f"[{host}]"
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def _address(value: str) -> str:
    value = value.strip()
    local, at, domain = value.rpartition("@")
    if not at or not local or not domain or any(c in value for c in " \r\n,;<>"):
        raise ValueError(f"{value!r} is not an e-mail address like ops@example.com")
    return value


def _describe(error: Any) -> str:
    """One line naming the key: ``notifications.email.smtp_port: ...``."""
    loc = tuple(error["loc"])
    where = "notifications" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc)
    kind = error["type"]
    if kind == "extra_forbidden":
        known = _known_keys(loc[:-1])
        return f"{where}: unknown setting" + (f"; known: {', '.join(known)}" if known else "")
    if kind == "missing":
        return f"{where}: required"
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind == "literal_error":
        message = f"unknown event {error.get('input')!r}; known: {', '.join(NOTIFICATION_EVENTS)}"
    elif "input" in error and kind not in ("value_error", "model_type", "dict_type"):
        message = f"{message} (got {error['input']!r})"
    return f"{where}: {message}"


def _known_keys(loc: tuple[Any, ...]) -> list[str]:
    """The keys of the model found at ``loc`` (indexes into lists skipped)."""
    model: type[BaseModel] | None = NotificationSettings
    for part in loc:
        if model is None:
            return []
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        model = _model_in(field.annotation) if field is not None else None
    return sorted(model.model_fields) if model is not None else []


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (list, typing.Union, types.UnionType):
        for arg in get_args(annotation):
            found = _model_in(arg)
            if found is not None:
                return found
    return None
