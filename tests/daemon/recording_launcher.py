"""A launcher double for daemon tests: records what it would have started in a process."""

from __future__ import annotations

import select
import time
from typing import Any


class RecordingLauncher:
    """Stands in for worker processes: records each run it is asked to launch.

    Given the ``instance``, it also *takes* each run the way a worker process does on start,
    so the run monitor does not put runs back in the queue as launched-but-never-taken.
    """

    def __init__(self, slots: int = 100, instance: Any = None) -> None:
        self.slots = slots
        self.instance = instance
        self.launched: list[str] = []

    def capacity(self) -> int:
        return self.slots - len(self.launched)

    def launch(self, run_id: str) -> None:
        self.launched.append(run_id)
        if self.instance is not None:
            self.instance.store.run_queue.take(run_id, time.time(), {"host": "test", "pid": 0})

    def poll(self) -> list[tuple[str, int | None]]:
        return []

    def wait(self, timeout: float, wake_fd: int | None = None) -> bool:
        return bool(select.select([wake_fd] if wake_fd is not None else [], [], [], timeout)[0])

    def shutdown(self) -> None:
        pass
