"""Run notifications: a JSON ``POST`` to webhooks and a plain-text e-mail over SMTP.

``notification_for_run`` turns a finished run (its record and events) into a
``RunNotification``; ``NotificationDispatcher.notify`` sends it to every channel configured for
its event. A channel that fails is logged on ``deras.notifications`` and reported in the list
``notify`` returns: a notification never breaks the run, the daemon or the other channels.
"""

from __future__ import annotations

import base64
import json
import logging
import smtplib
import ssl
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import TYPE_CHECKING, Any, Protocol
from urllib.error import HTTPError, URLError
from urllib.parse import unquote, urlsplit, urlunsplit
from urllib.request import Request, urlopen

from .._core.errors import DerasError
from .._core.events import DATA_ERROR, DATA_PASSED, EventRecord, EventType
from .notification_settings import (
    NOTIFICATION_EVENTS,
    EmailSettings,
    NotificationSettings,
    WebhookSettings,
    check_http_url,
    redact_url,
    resolve_env,
)

if TYPE_CHECKING:
    from .._core.records import RunRecord
    from .._instance.instance import DerasInstance

__all__ = [
    "EmailNotifier",
    "NotificationChannel",
    "NotificationDispatcher",
    "NotificationError",
    "Notifier",
    "RunNotification",
    "WebhookNotifier",
    "notification_for_run",
]

logger = logging.getLogger("deras.notifications")

_USER_AGENT = "deras"
_HEADLINES = {
    "run_failure": "run failed",
    "run_success": "run succeeded",
    "run_retry_exhausted": "run failed, retries exhausted",
    "check_failure": "check failed",
}


class NotificationError(DerasError):
    """A channel could not deliver a notification.

    ``url`` is the webhook's URL without credentials or query (None for e-mail); ``status``
    the HTTP status of a non-2xx response (None for network errors).
    """

    def __init__(self, message: str, *, url: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.status = status


@dataclass(frozen=True, slots=True, kw_only=True)
class RunNotification:
    """What a notification says about one run; times are Unix seconds (UTC)."""

    event: str
    run_id: str
    target: str
    status: str
    job_name: str | None = None
    partition_key: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    start_time: float | None = None
    end_time: float | None = None
    error: str | None = None
    failed_nodes: tuple[str, ...] = ()
    url: str | None = None
    instance_home: str | None = None

    @property
    def headline(self) -> str:
        """``run failed: assets:a,b (1a2b3c4d)``: the e-mail subject, the webhook's ``text``."""
        what = _HEADLINES.get(self.event, self.event)
        return f"{what}: {self.target} ({self.run_id[:8]})"

    def to_json(self) -> dict[str, Any]:
        """The webhook body. Its keys are stable; new keys may be added, none renamed.

        ``event`` (``run_failure``, ``run_success``, ``run_retry_exhausted``, ``check_failure``),
        ``text`` (one line for chat webhooks, e.g. ``"[deras] run failed: job:daily (1a2b3c4d)"``),
        ``run_id``, ``target``, ``job_name``, ``status`` (``success``, ``failure``, ...),
        ``partition_key``, ``tags`` (object), ``start_time`` and ``end_time`` (Unix seconds or
        null), ``error`` (the first failure's message or null), ``failed_nodes`` (list of node
        ids), ``url`` (link to the run in the UI, or null), ``instance_home`` (or null).

        >>> n = RunNotification(event="run_failure", run_id="1a2b3c4d-5e", target="job:daily",
        ...                     status="failure", failed_nodes=("orders",))
        >>> n.to_json()["text"], n.to_json()["failed_nodes"]
        ('[deras] run failed: job:daily (1a2b3c4d)', ['orders'])
        """
        return {
            "event": self.event,
            "text": f"[deras] {self.headline}",
            "run_id": self.run_id,
            "target": self.target,
            "job_name": self.job_name,
            "status": self.status,
            "partition_key": self.partition_key,
            "tags": dict(self.tags),
            "start_time": self.start_time,
            "end_time": self.end_time,
            "error": self.error,
            "failed_nodes": list(self.failed_nodes),
            "url": self.url,
            "instance_home": self.instance_home,
        }


def notification_for_run(
    instance: DerasInstance, run_record: RunRecord, event: str, *, url: str | None = None
) -> RunNotification:
    """The notification of ``event`` for a run, from its record and its events.

    ``failed_nodes`` are the nodes whose last step ended in failure (for ``check_failure``:
    the checks that did not pass); ``error`` is the first of their messages, else the run's own
    failure message. ``url`` links the run in the UI when the caller knows where that is.
    """
    if event not in NOTIFICATION_EVENTS:
        raise ValueError(f"unknown notification event {event!r}; known: {', '.join(NOTIFICATION_EVENTS)}")
    events = instance.get_events(run_record.run_id)
    if event == "check_failure":
        failed, errors = _failed_checks(events)
    else:
        failed, errors = _failed_steps(events)
    error = next((errors[n] for n in failed if errors.get(n)), None) or _run_error(events)
    home = instance.home
    return RunNotification(
        event=event,
        run_id=run_record.run_id,
        target=run_record.target,
        status=str(run_record.status),
        job_name=run_record.job_name,
        partition_key=run_record.partition_key,
        tags=dict(run_record.tags),
        start_time=run_record.start_time,
        end_time=run_record.end_time,
        error=error,
        failed_nodes=tuple(failed),
        url=url,
        instance_home=str(home) if home is not None else None,
    )


def _failed_steps(events: Iterable[EventRecord]) -> tuple[list[str], dict[str, str]]:
    """Nodes whose last step outcome is a failure (a cleared task may have run again), in order."""
    outcome: dict[str, bool] = {}
    errors: dict[str, str] = {}
    for e in events:
        if e.node is None:
            continue
        if e.event_type is EventType.STEP_FAILURE:
            outcome.pop(e.node, None)  # keep the order of the latest outcome
            outcome[e.node] = True
            errors[e.node] = str(e.data.get(DATA_ERROR) or e.message)
        elif e.event_type in (EventType.STEP_SUCCESS, EventType.STEP_SKIPPED):
            outcome.pop(e.node, None)
    return [n for n, failed in outcome.items() if failed], errors


def _failed_checks(events: Iterable[EventRecord]) -> tuple[list[str], dict[str, str]]:
    failed: dict[str, str] = {}
    for e in events:
        if e.event_type is EventType.ASSET_CHECK_EVALUATION and e.node is not None:
            if e.data.get(DATA_PASSED):
                failed.pop(e.node, None)
            else:
                failed[e.node] = e.message or f"check {e.node} failed"
    return list(failed), failed


def _run_error(events: Sequence[EventRecord]) -> str | None:
    for e in reversed(events):
        if e.event_type is EventType.RUN_FAILURE:
            return str(e.data.get(DATA_ERROR) or e.message) or None
    return None


class Notifier(Protocol):
    """A channel: delivers one notification or raises (``NotificationError`` when it can tell)."""

    def send(self, notification: RunNotification) -> None: ...


class WebhookNotifier:
    """``POST`` of ``RunNotification.to_json()`` with ``urllib``, its headers resolved per send.

    ``user:password@`` in the URL becomes a Basic ``Authorization`` header (unless ``headers``
    set one).
    """

    def __init__(self, settings: WebhookSettings) -> None:
        self.settings = settings

    @property
    def name(self) -> str:
        return f"webhook {redact_url(self.settings.url)}"

    def send(self, notification: RunNotification) -> None:
        url = resolve_env(self.settings.url, "webhook url")
        shown = redact_url(url)
        try:
            check_http_url(url)
        except ValueError as err:
            raise NotificationError(f"webhook: {err}", url=shown) from None
        headers = {
            name: resolve_env(value, f"webhook {shown} header {name!r}")
            for name, value in self.settings.headers.items()
        }
        url, basic = _split_credentials(url)
        if basic is not None:
            headers.setdefault("Authorization", basic)
        headers.setdefault("User-Agent", _USER_AGENT)
        headers["Content-Type"] = "application/json"
        body = json.dumps(notification.to_json(), sort_keys=True).encode()
        request = Request(url, data=body, headers=headers, method="POST")
        try:
            with urlopen(request, timeout=self.settings.timeout_seconds) as response:
                status = response.status
                response.read()
        except HTTPError as err:
            err.close()
            raise NotificationError(
                f"webhook {shown} answered HTTP {err.code} {err.reason}", url=shown, status=err.code
            ) from None
        except (URLError, OSError) as err:
            reason = err.reason if isinstance(err, URLError) else err
            raise NotificationError(f"webhook {shown} unreachable: {reason}", url=shown) from None
        if not 200 <= status < 300:
            raise NotificationError(f"webhook {shown} answered HTTP {status}", url=shown, status=status)


def _split_credentials(url: str) -> tuple[str, str | None]:
    """``url`` without ``user:password@`` (urllib would take it for the host) and its Basic auth.

    >>> _split_credentials("https://u:p@h.example/x")
    ('https://h.example/x', 'Basic dTpw')
    """
    parts = urlsplit(url)
    if parts.username is None:
        return url, None
    user_pass = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
    netloc = parts.netloc.rpartition("@")[2]
    basic = "Basic " + base64.b64encode(user_pass.encode()).decode("ascii")
    return urlunsplit(parts._replace(netloc=netloc)), basic


class EmailNotifier:
    """A plain-text e-mail through ``smtplib``: implicit TLS, STARTTLS and login as configured."""

    def __init__(self, settings: EmailSettings) -> None:
        self.settings = settings

    @property
    def name(self) -> str:
        return f"email via {self.settings.smtp_host}:{self.settings.port}"

    def message(self, notification: RunNotification) -> EmailMessage:
        s = self.settings
        msg = EmailMessage()
        msg["Subject"] = f"[deras] {notification.headline}"
        msg["From"] = s.sender
        msg["To"] = ", ".join(s.recipients)
        msg["Date"] = formatdate(usegmt=True)
        msg["Message-ID"] = make_msgid(domain=s.sender.rpartition("@")[2])
        msg.set_content(email_body(notification))
        return msg

    def send(self, notification: RunNotification) -> None:
        s = self.settings
        msg = self.message(notification)
        where = f"{s.smtp_host}:{s.port}"
        context = ssl.create_default_context()
        try:
            smtp = (
                smtplib.SMTP_SSL(s.smtp_host, s.port, timeout=s.timeout_seconds, context=context)
                if s.ssl
                else smtplib.SMTP(s.smtp_host, s.port, timeout=s.timeout_seconds)
            )
            with smtp:
                if s.starttls:
                    smtp.starttls(context=context)
                if s.username is not None and s.password is not None:
                    smtp.login(
                        resolve_env(s.username, "email username"), resolve_env(s.password, "email password")
                    )
                refused = smtp.send_message(msg)
        except (smtplib.SMTPException, OSError) as err:
            raise NotificationError(f"email via {where} failed: {err}") from None
        if refused:
            raise NotificationError(f"email via {where}: recipients refused: {', '.join(sorted(refused))}")


def email_body(notification: RunNotification) -> str:
    """The plain text of a notification e-mail."""
    n = notification
    lines = [
        f"{n.headline}",
        "",
        f"Run:        {n.run_id}",
        f"Target:     {n.target}",
    ]
    if n.job_name:
        lines.append(f"Job:        {n.job_name}")
    lines += [
        f"Status:     {n.status}",
        f"Started:    {_when(n.start_time)}",
        f"Ended:      {_when(n.end_time)}",
    ]
    if n.partition_key:
        lines.append(f"Partition:  {n.partition_key}")
    if n.tags:
        lines.append("Tags:       " + ", ".join(f"{k}={v}" for k, v in sorted(n.tags.items())))
    if n.failed_nodes:
        lines.append("Failed:     " + ", ".join(n.failed_nodes))
    if n.error:
        lines += ["", "Error:", *(f"  {line}" for line in n.error.splitlines())]
    if n.url:
        lines += ["", f"Details: {n.url}"]
    if n.instance_home:
        lines += ["", f"deras instance: {n.instance_home}"]
    return "\n".join(lines) + "\n"


def _when(timestamp: float | None) -> str:
    if timestamp is None:
        return "-"
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@dataclass(frozen=True, slots=True)
class NotificationChannel:
    """One configured destination and the events it is sent."""

    name: str
    events: frozenset[str]
    notifier: Notifier


class NotificationDispatcher:
    """Sends each notification to the channels configured for its event; never raises."""

    def __init__(self, channels: Sequence[NotificationChannel]) -> None:
        self.channels = list(channels)

    @classmethod
    def from_settings(cls, settings: NotificationSettings) -> NotificationDispatcher:
        pairs: list[tuple[WebhookSettings | EmailSettings, WebhookNotifier | EmailNotifier]] = [
            (w, WebhookNotifier(w)) for w in settings.all_webhooks
        ]
        if settings.email is not None:
            pairs.append((settings.email, EmailNotifier(settings.email)))
        return cls([NotificationChannel(n.name, settings.events_of(s), n) for s, n in pairs])

    def wants(self, event: str) -> bool:
        """Whether any channel is sent ``event`` (skip building the notification otherwise)."""
        return any(event in c.events for c in self.channels)

    def notify(self, notification: RunNotification) -> list[str]:
        """Send to every channel of the notification's event; the errors, one line per channel."""
        errors: list[str] = []
        for channel in self.channels:
            if notification.event not in channel.events:
                continue
            try:
                channel.notifier.send(notification)
            except DerasError as err:  # NotificationError, or a missing env: variable
                errors.append(f"{channel.name}: {err}")
                logger.error("notification of run %s failed: %s", notification.run_id, errors[-1])
            except Exception as err:  # a channel's bug must not break the caller either
                errors.append(f"{channel.name}: {type(err).__name__}: {err}")
                logger.exception("notification of run %s failed: %s", notification.run_id, errors[-1])
        return errors
