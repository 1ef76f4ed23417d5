"""The daemon: one process, a few components, each advanced by ``tick(now)``.

Order within a pass matters for latency: schedules and sensors create runs, the backfill
runner and asset trigger queue theirs, then the run queue launches what fits in the same
pass, and the run monitor looks after what ended. Between passes the daemon sleeps until the
next schedule or sensor is due, or ``interval_seconds`` at most, so an idle daemon with a
hundred schedules does a few small queries a second.

Components never raise out of a pass: a failing component is logged and the others go on.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
from typing import TYPE_CHECKING, Any

from .asset_trigger import AssetTrigger
from .backfill_runner import BackfillRunner
from .daemon_context import DaemonContext
from .launcher import ProcessLauncher, RunLauncher, WarmPoolLauncher
from .run_monitor import RunMonitor
from .run_queue import RunQueue
from .schedule_ticker import ScheduleTicker
from .sensor_runner import SensorRunner

if TYPE_CHECKING:
    from .._instance.instance import DerasInstance

log = logging.getLogger("deras.daemon")

# Seconds between runs of the components that rescan stored state, in the loop.
_PACE = {"backfills": 0.5, "automation": 0.5, "run_monitor": 0.5}
_WATCH = 0.05  # seconds between looks at SQLite's data_version while idle
HEARTBEAT_SECONDS = 5.0  # at most this often the loop records its heartbeat (``daemon_heartbeats``)
_FORGET_SECONDS = 7 * 24 * 3600  # heartbeats of daemons gone this long are pruned at start


def default_launcher(ctx: DaemonContext) -> RunLauncher:
    loop = ctx.settings.daemon
    if loop.launcher == "process":
        return ProcessLauncher(ctx.instance)
    pool = WarmPoolLauncher(
        ctx.instance, workers=loop.workers, runs_per_worker=loop.runs_per_worker, preload=ctx.location
    )
    pool.start()
    return pool


def default_notifier(instance: DerasInstance) -> Any:
    config = (instance.settings.config if instance.settings else {}).get("notifications")
    if not config:
        return None
    from .notification_settings import NotificationSettings
    from .notifications import NotificationDispatcher

    return NotificationDispatcher.from_settings(NotificationSettings.from_config(config))


class Daemon:
    """Schedules, sensors, backfills, automation, the run queue and the run monitor."""

    def __init__(
        self,
        instance: DerasInstance,
        definitions: Any,
        location: dict[str, str] | None,
        *,
        launcher: RunLauncher | None = None,
        notifier: Any = None,
    ) -> None:
        self.ctx = DaemonContext(instance, definitions, location)
        self.launcher = launcher if launcher is not None else default_launcher(self.ctx)
        self.schedules = ScheduleTicker(self.ctx)
        self.sensors = SensorRunner(self.ctx)
        self.backfills = BackfillRunner(self.ctx)
        self.automation = AssetTrigger(self.ctx)
        self.queue = RunQueue(self.ctx, self.launcher)
        self.monitor = RunMonitor(
            self.ctx,
            self.queue.ended,
            notifier if notifier is not None else default_notifier(instance),
            notify_in_background=True,
        )
        self._stop = threading.Event()
        self._last_run: dict[str, float] = {}
        self._dirty: set[str] = set()  # paced components that should look again soon
        self._wake_at = float("inf")  # when the loop must pass again for them
        self._ran: dict[str, float] = {}  # component -> when it last ran (for the heartbeat)
        self._failing: dict[str, str] = {}  # component -> its last error, while it fails
        self._started = time.time()
        self._beaten = float("-inf")
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_read, False)
        os.set_blocking(self._wake_write, False)

    def tick(self, now: float | None = None, *, paced: bool = False) -> None:
        """One pass of every component at ``now`` (tests pass a fixed clock).

        ``paced`` (the loop): components that rescan stored state — backfills, automation, the
        run monitor — run at most every ``_PACE`` seconds, so that the passes a finished run
        triggers cost two small queries; schedules, sensors and the queue run every pass.
        """
        now = time.time() if now is None else now
        states = self._states()
        ended_before = self.queue.ended_count
        self._wake_at = float("inf")
        for component, call in (
            (self.schedules, lambda: self.schedules.tick(now, states)),
            (self.sensors, lambda: self.sensors.tick(now, states)),
            (self.backfills, lambda: self.backfills.tick(now)),
            (self.automation, lambda: self.automation.tick(now)),
            (self.queue, lambda: self.queue.tick(now)),
            (self.monitor, lambda: self.monitor.tick(now)),
        ):
            if paced and component.name in _PACE:
                due = self._last_run.get(component.name, float("-inf")) + _PACE[component.name]
                if now < due:
                    if component.name in self._dirty:  # runs ended since it last looked
                        self._wake_at = min(self._wake_at, due)
                    continue
                self._last_run[component.name] = now
                self._dirty.discard(component.name)
            try:
                call()
                self._failing.pop(component.name, None)
            except Exception as err:
                log.exception("daemon component %s failed; going on", component.name)
                self._failing[component.name] = f"{type(err).__name__}: {err}"[:500]
            self._ran[component.name] = now
        if self.queue.ended_count != ended_before:
            # Runs ended: the paced components have news (a backfill unit done, a retry due).
            self._dirty.update(_PACE)
            for name, pace in _PACE.items():
                self._wake_at = min(self._wake_at, self._last_run.get(name, now) + pace)

    def _states(self) -> dict[str, Any]:
        try:
            return dict(self.ctx.store.ticks.get_states())
        except Exception:
            log.exception("could not read schedule and sensor states")
            return {}

    def run(self, *, max_seconds: float | None = None) -> None:
        """Tick until stopped (SIGTERM/SIGINT or :meth:`stop`), or for ``max_seconds``.

        Between passes it waits for whichever comes first: a worker reporting (a run ended, a
        worker is ready), the next schedule or sensor falling due, :meth:`stop`, or
        ``interval_seconds`` (for work other processes queue: runs, backfills).
        """
        interval = self.ctx.settings.daemon.interval_seconds
        deadline = None if max_seconds is None else time.monotonic() + max_seconds
        owner = self.ctx.owner
        log.info("deras daemon %s started", owner, extra=_facts("daemon_started", owner))
        self._forget_old_daemons()
        try:
            while not self._stop.is_set():
                self.tick(paced=True)
                self.beat()
                if deadline is not None and time.monotonic() >= deadline:
                    break
                now = time.time()
                due = [t for t in (self.schedules.next_due(), self.sensors.next_due()) if t is not None]
                timeout = min([interval, self._wake_at - now, *(t - now for t in due)])
                if deadline is not None:
                    timeout = min(timeout, deadline - time.monotonic())
                self._wait(max(timeout, 0.0))
                self._drain_wake()
        finally:
            self._record_stop()
            self.launcher.shutdown()
            if self.ctx.user_code is not None:
                self.ctx.user_code.shutdown()
            log.info("deras daemon %s stopped", owner, extra=_facts("daemon_stopped", owner))

    def beat(self, now: float | None = None, *, force: bool = False) -> None:
        """Record the daemon's heartbeat (components and when they last ran), at most every
        ``HEARTBEAT_SECONDS``: each write wakes whoever watches the store for changes."""
        now = time.time() if now is None else now
        if not force and now - self._beaten < HEARTBEAT_SECONDS:
            return
        self._beaten = now
        host, pid = _host_pid(self.ctx.owner)
        info: dict[str, Any] = {"location": self.ctx.location, "failing": dict(self._failing)}
        try:
            self.ctx.store.daemon_heartbeats.beat(
                self.ctx.owner,
                host=host,
                pid=pid,
                started_time=self._started,
                now=now,
                components=self._ran,
                info=info,
            )
        except Exception:
            log.exception("could not record the daemon's heartbeat; going on")

    def _forget_old_daemons(self) -> None:
        try:
            self.ctx.store.daemon_heartbeats.prune(time.time() - _FORGET_SECONDS)
        except Exception:
            log.exception("could not prune old daemon heartbeats")

    def _record_stop(self) -> None:
        try:
            self.ctx.store.daemon_heartbeats.stopped(self.ctx.owner, time.time())
        except Exception:
            log.exception("could not record that the daemon stopped")

    def _wait(self, timeout: float) -> None:
        """Wait for the launcher's workers, :meth:`stop`, ``timeout`` — or, on SQLite, a commit
        by another process (runs or backfills queued by the CLI), checked every ``_WATCH`` s."""
        token = self._change_token()
        if token is None:
            self.launcher.wait(timeout, self._wake_read)
            return
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            if self.launcher.wait(min(left, _WATCH), self._wake_read):
                return
            if self._change_token() != token:
                self._last_run.pop("backfills", None)  # a new backfill (or cancel): look now
                return

    def _change_token(self) -> int | None:
        try:
            return self.ctx.store.change_token()
        except Exception:
            return None

    def stop(self) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):  # a full pipe already wakes it
            os.write(self._wake_write, b"x")  # wakes the loop's wait; safe in a signal handler

    def _drain_wake(self) -> None:
        try:
            while os.read(self._wake_read, 512):
                pass
        except BlockingIOError:
            pass

    def install_signal_handlers(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.stop())


def _host_pid(owner: str) -> tuple[str, int]:
    """``host:pid:nonce`` → (host, pid)."""
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    return host, int(pid) if pid.isdigit() else os.getpid()


def _facts(event: str, owner: str) -> dict[str, Any]:
    return {"deras": {"event": event, "daemon": owner}}
