"""``deras web`` (the web UI and HTTP API) and ``deras dev`` (web + daemon in one process tree)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import click

from .code import code_location, code_options, fail

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 3000


def _server_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    fn = click.option("--port", type=int, default=DEFAULT_PORT, show_default=True, help="Port to serve on.")(
        fn
    )
    return click.option(
        "--host",
        default=DEFAULT_HOST,
        show_default=True,
        help="Address to serve on; anything but loopback needs DERAS_AUTH_TOKEN.",
    )(fn)


@click.command("web")
@code_options
@_server_options
def web_command(file: str | None, module: str | None, host: str, port: int) -> None:
    """Serve the web UI and the HTTP API (/api/v1) for $DERAS_HOME and the code at -f/-m/-d.

    The server never imports your code: a code server process loads it (a broken file shows as
    a load error with its traceback; fix it and reload). Launches are queued for the daemon:
    run `deras daemon run` beside it, or use `deras dev`.
    """
    serve(file, module, host, port)


@click.command("dev")
@code_options
@_server_options
def dev_command(file: str | None, module: str | None, host: str, port: int) -> None:
    """The web UI and the daemon together, for local development; Ctrl-C stops both."""
    _check_address(host)
    location = _location(file, module)
    flags = {"file": "-f", "module": "-m", "dags_folder": "-d"}
    daemon_args = [sys.executable, "-m", "deras", "daemon", "run"]
    daemon_args += [a for key, flag in flags.items() if key in location for a in (flag, location[key])]
    daemon = subprocess.Popen(daemon_args)
    try:
        serve(file, module, host, port)
    finally:
        _stop(daemon)


def _location(file: str | None, module: str | None) -> dict[str, str]:
    location = code_location(file, module)
    if "file" in location and not os.path.isfile(location["file"]):
        fail(f"no file {location['file']}: give the Python file holding your definitions")
    if "dags_folder" in location and not os.path.isdir(location["dags_folder"]):
        fail(f"no folder {location['dags_folder']}: give the folder of your DAG files")
    return {k: os.path.abspath(v) if k in ("file", "dags_folder") else v for k, v in location.items()}


def serve(file: str | None, module: str | None, host: str, port: int) -> None:
    """Check the address, start the code server, serve until SIGTERM or Ctrl-C."""
    token = _check_address(host)
    import uvicorn

    from .._code_server.client import CodeLocations
    from .._instance.instance import DerasInstance
    from .._storage.health import require_healthy
    from .._web.app import create_app
    from .._web.security import LOOPBACK_HOST_NAMES, is_loopback

    location = _location(file, module)
    instance = DerasInstance.get()
    require_healthy(instance.store.url)
    locations = CodeLocations.single(location, instance=instance)
    locations.start()
    # A tokenless loopback server answers only its own names (a page elsewhere cannot rebind a
    # name of its own to 127.0.0.1 and call the API).
    allowed = {*LOOPBACK_HOST_NAMES, host, f"[{host}]"} if is_loopback(host) and token is None else None
    app = create_app(instance, locations, auth_token=token, allowed_hosts=allowed, freeze_long_lived=True)
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"deras web: http://{shown}:{port} ({instance.home}); Ctrl-C stops it", err=True)
    try:
        # Open event streams never end by themselves: give them a moment, then close them.
        uvicorn.run(
            app, host=host, port=port, log_level="warning", access_log=False, timeout_graceful_shutdown=2
        )
    finally:
        locations.stop()
        instance.dispose()


def _check_address(host: str) -> str | None:
    """The auth token, once the address is allowed (a DerasError, printed by main(), if not)."""
    from .._web.security import AUTH_TOKEN_ENV, check_bind

    token = os.environ.get(AUTH_TOKEN_ENV) or None
    check_bind(host, token)
    return token


def _stop(process: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
