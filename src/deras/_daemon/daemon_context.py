"""What every daemon component shares: the instance, the loaded code, and how to call it."""

from __future__ import annotations

import logging
import os
import socket
import traceback
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._core.status import TickStatus
from .._core.tags import TICK_ID
from .._exec.run_owner import process_fate
from .run_factory import RunFactory
from .user_code import UserCodeRunner

if TYPE_CHECKING:
    from .._instance.instance import DerasInstance

log = logging.getLogger("deras.daemon")


def daemon_owner() -> str:
    """``host:pid:nonce``: who holds a tick's lease (the pid lets a restart spot a dead owner)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def owner_is_dead(owner: str | None) -> bool:
    """Whether ``owner`` was a process on this host that no longer exists."""
    if not owner:
        return False
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit() or int(pid_text) == os.getpid():
        return False
    return process_fate(int(pid_text)) == "gone"


@dataclass
class DaemonContext:
    instance: DerasInstance
    definitions: Any
    location: dict[str, str] | None
    owner: str = field(default_factory=daemon_owner)
    user_code: UserCodeRunner | None = None

    def __post_init__(self) -> None:
        self.settings = self.instance.daemon_settings
        self.store = self.instance.store
        self.factory = RunFactory(self.definitions, self.location, self.instance)
        if self.user_code is None:
            self.user_code = UserCodeRunner(self.settings.daemon.evaluation_timeout_seconds)

    @property
    def lease_seconds(self) -> float:
        return self.settings.daemon.evaluation_timeout_seconds + 30.0

    def claim_tick(self, instigator: str, tick_time: float, now: float) -> Any:
        """Claim a tick for this daemon; a started tick of a dead local daemon is taken over."""
        ticks = self.store.ticks
        tick = ticks.claim_tick(instigator, tick_time, self.owner, now, self.lease_seconds)
        if tick is not None:
            # A new tick starts now; one started earlier was another daemon's, its lease run out.
            if tick.start_time is not None and tick.start_time < now:
                _log_takeover(instigator, tick, "its daemon's lease ran out")
            return tick
        for started in ticks.get_ticks(instigator, limit=5, status=TickStatus.STARTED):
            if started.tick_time == tick_time and owner_is_dead(started.owner):
                tick = ticks.claim_tick(
                    instigator, tick_time, self.owner, now, self.lease_seconds, dead_owner=started.owner
                )
                if tick is not None:
                    _log_takeover(instigator, tick, f"its daemon {started.owner} is gone")
                return tick
        return None

    def create_runs(self, runs: list[Any], tick_id: int | None = None) -> list[str]:
        """Insert ``runs`` (a key that exists is not created again) and return the tick's run ids.

        Those are the runs created now, plus existing ones with the same key that this tick
        itself created before a crash (with ``tick_id``: tagged with it; without, any).
        """
        created = {r.idempotency_key: r.run_id for r in self.store.create_runs(runs)}
        ids = []
        for run in runs:
            run_id = created.get(run.idempotency_key)
            if run_id is None:
                existing = self.store.get_run_by_idempotency_key(run.idempotency_key)
                if existing is not None and (tick_id is None or existing.tags.get(TICK_ID) == str(tick_id)):
                    run_id = existing.run_id
            if run_id is not None:
                ids.append(run_id)
        return ids


def _log_takeover(instigator: str, tick: Any, why: str) -> None:
    log.warning(
        "took over the unfinished tick %s of %s (%s): evaluating it again",
        tick.id,
        instigator,
        why,
        extra={"deras": {"event": "takeover", "instigator": instigator, "tick_id": tick.id}},
    )


def error_text(err: BaseException) -> str:
    return "".join(traceback.format_exception(err)).strip()
