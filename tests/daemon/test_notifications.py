"""Run notifications: config, webhook and e-mail delivery against real loopback servers."""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
from webhook_server import WebhookServer

import deras as dg
from deras._core.errors import ConfigError
from deras._daemon.notification_settings import NotificationSettings
from deras._daemon.notifications import (
    EmailNotifier,
    NotificationChannel,
    NotificationDispatcher,
    NotificationError,
    RunNotification,
    WebhookNotifier,
    notification_for_run,
)


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """urllib honours *_proxy variables; loopback servers must be reached directly."""
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


# ============================================================================================
# servers
# ============================================================================================


@pytest.fixture
def webhook_server() -> Iterator[WebhookServer]:
    server = WebhookServer()
    server.thread.start()
    yield server
    server.close()


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, list[Message]]]:
    """A real aiosmtpd SMTP server on 127.0.0.1; yields its port and the messages received."""
    from aiosmtpd.controller import Controller

    received: list[Message] = []

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            msg = message_from_bytes(envelope.content)
            msg["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
            received.append(msg)
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield controller.port, received
    controller.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _closed_port() -> int:
    """A loopback port nothing listens on."""
    return _free_port()


def _notification(event: str = "run_failure", **kw: Any) -> RunNotification:
    values: dict[str, Any] = {
        "event": event,
        "run_id": "0123456789abcdef",
        "target": "assets:orders",
        "status": "failure" if "failure" in event or "exhausted" in event else "success",
        "partition_key": "2024-01-01",
        "tags": {"team": "data"},
        "start_time": 1_700_000_000.0,
        "end_time": 1_700_000_060.0,
        "error": "ValueError: kaput" if event != "run_success" else None,
        "failed_nodes": ("orders",) if event != "run_success" else (),
        "url": "http://ui.example/runs/0123456789abcdef",
        "instance_home": "/srv/deras",
    }
    values.update(kw)
    return RunNotification(**values)


# ============================================================================================
# config
# ============================================================================================


def test_no_section_configures_no_channel() -> None:
    settings = NotificationSettings.from_config(None)
    assert settings.all_webhooks == [] and settings.email is None
    assert NotificationDispatcher.from_settings(settings).channels == []


def test_full_section_parses_with_defaults() -> None:
    settings = NotificationSettings.from_config(
        {
            "events": ["run_failure", "check_failure"],
            "webhook": {"url": "https://hooks.example/x", "headers": {"Authorization": "env:TOKEN"}},
            "email": {
                "smtp_host": "smtp.example.com",
                "sender": "deras@example.com",
                "recipients": ["ops@example.com"],
                "events": ["run_success"],
            },
        }
    )
    (hook,) = settings.all_webhooks
    assert hook.timeout_seconds == 5 and hook.headers == {"Authorization": "env:TOKEN"}
    assert settings.email is not None and settings.email.port == 25 and settings.email.timeout_seconds == 10
    assert settings.events_of(hook) == {"run_failure", "check_failure"}
    assert settings.events_of(settings.email) == {"run_success"}


def test_webhooks_list_gives_one_channel_each() -> None:
    settings = NotificationSettings.from_config(
        {"webhooks": [{"url": "https://a.example/x"}, {"url": "http://b.example:8080/y"}]}
    )
    dispatcher = NotificationDispatcher.from_settings(settings)
    assert [c.name for c in dispatcher.channels] == [
        "webhook https://a.example/x",
        "webhook http://b.example:8080/y",
    ]


def test_default_events_are_run_failure_only() -> None:
    settings = NotificationSettings.from_config({"webhook": {"url": "https://a.example/x"}})
    assert settings.events == ["run_failure"]


def test_ssl_defaults_to_port_465() -> None:
    email = {"smtp_host": "h", "ssl": True, "sender": "a@b.c", "recipients": ["d@e.f"]}
    settings = NotificationSettings.from_config({"email": email})
    assert settings.email is not None and settings.email.port == 465


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ({"webhook": {"url": "https://a.example/x", "timeout": 3}}, "notifications.webhook.timeout: unknown"),
        ({"webhok": {"url": "https://a.example/x"}}, "notifications.webhok: unknown setting; known: email"),
        ({"webhook": {"headers": {}}}, "notifications.webhook.url: required"),
        ({"webhooks": [{"url": "https://a.example"}, {}]}, "notifications.webhooks[1].url: required"),
        (
            {"events": ["run_failed"]},
            "notifications.events[0]: unknown event 'run_failed'; known: run_failure",
        ),
        ({"events": []}, "notifications.events:"),
        ({"webhook": {"url": "ftp://a.example/x"}}, "notifications.webhook.url: 'ftp://a.example/x' is not"),
        ({"webhook": {"url": "https://a.example/x", "timeout_seconds": 0}}, "webhook.timeout_seconds"),
        ({"email": {"smtp_host": "h", "sender": "a@b.c", "recipients": []}}, "email.recipients"),
        (
            {"email": {"smtp_host": "h", "sender": "nobody", "recipients": ["d@e.f"]}},
            "email.sender: 'nobody'",
        ),
        (
            {"email": {"smtp_host": "h", "sender": "a@b.c", "recipients": ["d@e.f"], "password": "x"}},
            "both 'username' and 'password'",
        ),
        (
            {
                "email": {
                    "smtp_host": "h",
                    "sender": "a@b.c",
                    "recipients": ["d@e.f"],
                    "ssl": 1,
                    "starttls": 1,
                }
            },
            "not both",
        ),
        (
            {"webhook": {"url": "https://a.example/x"}, "webhooks": [{"url": "https://b.example/y"}]},
            "give 'webhook' (one) or 'webhooks' (a list), not both",
        ),
        ([1, 2], "expected a mapping"),
    ],
)
def test_bad_config_is_a_config_error_naming_the_key(section: Any, expected: str) -> None:
    with pytest.raises(ConfigError, match=r"^notifications") as info:
        NotificationSettings.from_config(section)
    assert expected in str(info.value)
    assert "notifications: notifications" not in str(info.value)  # the key is named once


def test_secret_in_bad_url_is_not_repeated_in_the_error() -> None:
    with pytest.raises(ConfigError) as info:
        NotificationSettings.from_config({"webhook": {"url": "ftp://user:hunter2@a.example/x?k=secret"}})
    assert "hunter2" not in str(info.value) and "secret" not in str(info.value)


# ============================================================================================
# webhook
# ============================================================================================


def test_webhook_posts_the_notification_as_json(webhook_server: WebhookServer) -> None:
    settings = NotificationSettings.from_config({"webhook": {"url": webhook_server.url}})
    notifier = WebhookNotifier(settings.all_webhooks[0])
    notifier.send(_notification())

    (request,) = webhook_server.requests
    assert request["path"] == "/hook"
    assert request["headers"]["Content-Type"] == "application/json"
    assert request["headers"]["User-Agent"] == "deras"
    assert webhook_server.json() == {
        "event": "run_failure",
        "text": "[deras] run failed: assets:orders (01234567)",
        "run_id": "0123456789abcdef",
        "target": "assets:orders",
        "job_name": None,
        "status": "failure",
        "partition_key": "2024-01-01",
        "tags": {"team": "data"},
        "start_time": 1_700_000_000.0,
        "end_time": 1_700_000_060.0,
        "error": "ValueError: kaput",
        "failed_nodes": ["orders"],
        "url": "http://ui.example/runs/0123456789abcdef",
        "instance_home": "/srv/deras",
    }


def test_webhook_header_values_read_env(
    webhook_server: WebhookServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DERAS_TEST_HOOK_TOKEN", "s3cret")
    settings = NotificationSettings.from_config(
        {
            "webhook": {
                "url": webhook_server.url,
                "headers": {"Authorization": "env:DERAS_TEST_HOOK_TOKEN", "X-Team": "data"},
            }
        }
    )
    WebhookNotifier(settings.all_webhooks[0]).send(_notification())
    headers = webhook_server.requests[0]["headers"]
    assert headers["Authorization"] == "s3cret"
    assert headers["X-Team"] == "data"


def test_webhook_url_may_come_from_env(
    webhook_server: WebhookServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DERAS_TEST_HOOK_URL", webhook_server.url)
    settings = NotificationSettings.from_config({"webhook": {"url": "env:DERAS_TEST_HOOK_URL"}})
    WebhookNotifier(settings.all_webhooks[0]).send(_notification())
    assert len(webhook_server.requests) == 1


def test_missing_env_header_is_reported_not_raised(
    webhook_server: WebhookServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DERAS_TEST_UNSET", raising=False)
    settings = NotificationSettings.from_config(
        {"webhook": {"url": webhook_server.url, "headers": {"Authorization": "env:DERAS_TEST_UNSET"}}}
    )
    errors = NotificationDispatcher.from_settings(settings).notify(_notification())
    assert len(errors) == 1 and "'DERAS_TEST_UNSET' is not set" in errors[0]
    assert webhook_server.requests == []


def test_webhook_error_status_raises_with_url_and_status(webhook_server: WebhookServer) -> None:
    webhook_server.status = 500
    url = webhook_server.url.replace("http://", "http://user:pw@") + "?token=abc"
    settings = NotificationSettings.from_config({"webhook": {"url": url}})
    with pytest.raises(NotificationError, match="HTTP 500") as info:
        WebhookNotifier(settings.all_webhooks[0]).send(_notification())
    assert info.value.status == 500
    assert info.value.url == webhook_server.url
    assert "pw" not in str(info.value) and "abc" not in str(info.value)


def test_webhook_500_is_logged_and_returned_by_notify(
    webhook_server: WebhookServer, caplog: pytest.LogCaptureFixture
) -> None:
    webhook_server.status = 500
    settings = NotificationSettings.from_config({"webhook": {"url": webhook_server.url}})
    with caplog.at_level(logging.ERROR, logger="deras.notifications"):
        errors = NotificationDispatcher.from_settings(settings).notify(_notification())
    assert errors == [
        f"webhook {webhook_server.url}: webhook {webhook_server.url} answered HTTP 500 Internal Server Error"
    ]
    assert [r.name for r in caplog.records] == ["deras.notifications"]
    assert "HTTP 500" in caplog.records[0].getMessage()


def test_unreachable_webhook_raises_notification_error() -> None:
    url = f"http://127.0.0.1:{_closed_port()}/hook"
    settings = NotificationSettings.from_config({"webhook": {"url": url, "timeout_seconds": 2}})
    with pytest.raises(NotificationError, match="unreachable") as info:
        WebhookNotifier(settings.all_webhooks[0]).send(_notification())
    assert info.value.url == url and info.value.status is None


# ============================================================================================
# e-mail
# ============================================================================================


def _email_section(port: int, **kw: Any) -> dict[str, Any]:
    return {
        "email": {
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "sender": "deras@example.com",
            "recipients": ["ops@example.com", "oncall@example.com"],
            **kw,
        }
    }


def test_email_is_sent_over_smtp(smtp_server: tuple[int, list[Message]]) -> None:
    port, received = smtp_server
    settings = NotificationSettings.from_config(_email_section(port))
    assert settings.email is not None
    EmailNotifier(settings.email).send(_notification())

    (msg,) = received
    assert msg["Subject"] == "[deras] run failed: assets:orders (01234567)"
    assert msg["From"] == "deras@example.com"
    assert msg["To"] == "ops@example.com, oncall@example.com"
    assert msg["X-Envelope-To"] == "ops@example.com, oncall@example.com"
    body = msg.get_payload(decode=True).decode()
    for line in (
        "Run:        0123456789abcdef",
        "Status:     failure",
        "Started:    2023-11-14 22:13:20 UTC",
        "Ended:      2023-11-14 22:14:20 UTC",
        "Partition:  2024-01-01",
        "Failed:     orders",
        "  ValueError: kaput",
        "Details: http://ui.example/runs/0123456789abcdef",
    ):
        assert line in body


def test_unreachable_smtp_server_raises_notification_error() -> None:
    settings = NotificationSettings.from_config(_email_section(_closed_port(), timeout_seconds=2))
    assert settings.email is not None
    with pytest.raises(NotificationError, match=r"email via 127\.0\.0\.1:\d+ failed"):
        EmailNotifier(settings.email).send(_notification())


def test_starttls_against_a_server_without_it_fails_cleanly(smtp_server: tuple[int, list[Message]]) -> None:
    port, received = smtp_server
    settings = NotificationSettings.from_config(_email_section(port, starttls=True))
    assert settings.email is not None
    with pytest.raises(NotificationError, match="STARTTLS"):
        EmailNotifier(settings.email).send(_notification())
    assert received == []


# ============================================================================================
# dispatcher
# ============================================================================================


def test_notify_sends_to_every_channel_of_the_event(
    webhook_server: WebhookServer, smtp_server: tuple[int, list[Message]]
) -> None:
    port, received = smtp_server
    section = {"webhook": {"url": webhook_server.url}, **_email_section(port)}
    dispatcher = NotificationDispatcher.from_settings(NotificationSettings.from_config(section))
    assert dispatcher.notify(_notification()) == []
    assert len(webhook_server.requests) == 1 and len(received) == 1


def test_events_not_configured_are_not_sent(
    webhook_server: WebhookServer, smtp_server: tuple[int, list[Message]]
) -> None:
    port, received = smtp_server
    section = {"events": ["run_failure"], "webhook": {"url": webhook_server.url}, **_email_section(port)}
    dispatcher = NotificationDispatcher.from_settings(NotificationSettings.from_config(section))
    assert not dispatcher.wants("run_success")
    assert dispatcher.notify(_notification("run_success")) == []
    assert webhook_server.requests == [] and received == []


def test_channel_events_override_the_section(
    webhook_server: WebhookServer, smtp_server: tuple[int, list[Message]]
) -> None:
    port, received = smtp_server
    section = {
        "events": ["run_failure"],
        "webhook": {"url": webhook_server.url, "events": ["run_success"]},
        **_email_section(port),
    }
    dispatcher = NotificationDispatcher.from_settings(NotificationSettings.from_config(section))
    dispatcher.notify(_notification("run_success"))
    assert len(webhook_server.requests) == 1 and received == []
    assert webhook_server.json()["text"] == "[deras] run succeeded: assets:orders (01234567)"


class _Raising:
    def send(self, notification: RunNotification) -> None:
        raise RuntimeError("channel bug")


def test_a_raising_channel_never_raises_out_of_notify(
    webhook_server: WebhookServer, caplog: pytest.LogCaptureFixture
) -> None:
    """The channel after a broken one is still sent; the error comes back and is logged."""
    settings = NotificationSettings.from_config({"webhook": {"url": webhook_server.url}})
    hook = NotificationDispatcher.from_settings(settings).channels[0]
    dispatcher = NotificationDispatcher(
        [NotificationChannel("broken", frozenset({"run_failure"}), _Raising()), hook]
    )
    with caplog.at_level(logging.ERROR, logger="deras.notifications"):
        errors = dispatcher.notify(_notification())
    assert errors == ["broken: RuntimeError: channel bug"]
    assert len(webhook_server.requests) == 1
    assert "channel bug" in caplog.text


def test_unreachable_channels_never_raise_out_of_notify(caplog: pytest.LogCaptureFixture) -> None:
    section = {
        "webhook": {"url": f"http://127.0.0.1:{_closed_port()}/hook", "timeout_seconds": 2},
        **_email_section(_closed_port(), timeout_seconds=2),
    }
    dispatcher = NotificationDispatcher.from_settings(NotificationSettings.from_config(section))
    with caplog.at_level(logging.ERROR, logger="deras.notifications"):
        errors = dispatcher.notify(_notification())
    assert len(errors) == 2
    assert errors[0].startswith("webhook http://127.0.0.1:") and "unreachable" in errors[0]
    assert errors[1].startswith("email via 127.0.0.1:")
    assert len(caplog.records) == 2


# ============================================================================================
# notification_for_run
# ============================================================================================


@dg.asset
def raw() -> int:
    return 1


@dg.asset
def orders(raw: int) -> int:
    raise ValueError("kaput")


@dg.asset
def report(orders: int) -> int:
    return orders


@dg.asset_check(asset=raw)
def raw_is_big(raw: int) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=False)


@pytest.fixture
def failed_run() -> Iterator[tuple[Any, Any]]:
    instance = dg.DerasInstance.ephemeral()
    result = dg.materialize([raw, orders, report, raw_is_big], instance=instance, raise_on_error=False)
    run = instance.get_run(result.run_id)
    assert run is not None
    yield instance, run
    instance.dispose()


def test_notification_for_a_failed_run(failed_run: tuple[Any, Any]) -> None:
    instance, run = failed_run
    n = notification_for_run(instance, run, "run_failure", url="http://ui/runs/x")
    assert n.event == "run_failure" and n.status == "failure" and n.run_id == run.run_id
    assert n.target == run.target and n.tags == {}
    assert n.failed_nodes == ("orders",)  # `report` was skipped, it did not fail
    assert n.error == "ValueError: kaput"
    assert n.start_time is not None and n.end_time is not None and n.start_time <= n.end_time
    assert n.url == "http://ui/runs/x"
    assert n.instance_home is None  # ephemeral
    json.dumps(n.to_json())


def test_check_failure_notification_names_the_failed_check(failed_run: tuple[Any, Any]) -> None:
    instance, run = failed_run
    n = notification_for_run(instance, run, "check_failure")
    assert n.failed_nodes == ("raw:raw_is_big",)
    assert n.error is not None and "raw_is_big" in n.error


def test_notification_of_a_real_run_reaches_the_webhook(
    failed_run: tuple[Any, Any], webhook_server: WebhookServer
) -> None:
    instance, run = failed_run
    settings = NotificationSettings.from_config({"webhook": {"url": webhook_server.url}})
    errors = NotificationDispatcher.from_settings(settings).notify(
        notification_for_run(instance, run, "run_failure")
    )
    assert errors == []
    assert webhook_server.json()["failed_nodes"] == ["orders"]


def test_unknown_event_is_refused(failed_run: tuple[Any, Any]) -> None:
    instance, run = failed_run
    with pytest.raises(ValueError, match="unknown notification event 'run_failed'"):
        notification_for_run(instance, run, "run_failed")


def test_credentials_in_the_url_become_basic_auth(webhook_server: WebhookServer) -> None:
    url = webhook_server.url.replace("http://", "http://deras:pa%40ss@")
    settings = NotificationSettings.from_config({"webhook": {"url": url}})
    WebhookNotifier(settings.all_webhooks[0]).send(_notification())
    assert webhook_server.requests[0]["headers"]["Authorization"] == "Basic ZGVyYXM6cGFAc3M="
