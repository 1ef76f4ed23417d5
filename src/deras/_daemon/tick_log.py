"""One log line per tick a daemon evaluates: what it asked for, or why it skipped, or how it failed.

A sensor that finds nothing new skips every few seconds; logging each of those at INFO would
bury everything else. A skip is INFO when its reason differs from the instigator's previous
outcome, DEBUG when it repeats it (``deras daemon run --verbose`` shows those), so a daemon
with nothing to do is quiet.

Every line carries its facts in ``record.deras`` (``event``, ``instigator``, ``result``,
``run_ids``...), which ``--log-format json`` writes as fields.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any


class TickLog:
    def __init__(self, logger: logging.Logger) -> None:
        self._log = logger
        self._last_skip: dict[str, str] = {}  # instigator -> reason of its latest tick, if skipped

    def requested(self, instigator: str, when: datetime | None, run_ids: list[str]) -> None:
        self._last_skip.pop(instigator, None)
        runs = ", ".join(run_ids) if run_ids else "none new"
        self._emit(
            logging.INFO,
            f"{self._name(instigator, when)}: {len(run_ids)} run(s) requested: {runs}",
            instigator,
            when,
            result="success",
            run_ids=run_ids,
        )

    def skipped(self, instigator: str, when: datetime | None, reason: str) -> None:
        repeat = self._last_skip.get(instigator) == reason
        self._last_skip[instigator] = reason
        self._emit(
            logging.DEBUG if repeat else logging.INFO,
            f"{self._name(instigator, when)}: skipped: {reason}",
            instigator,
            when,
            result="skipped",
            skip_reason=reason,
        )

    def failed(self, instigator: str, when: datetime | None, err: BaseException) -> None:
        self._last_skip.pop(instigator, None)
        self._emit(
            logging.WARNING,
            f"{self._name(instigator, when)}: failed: {type(err).__name__}: {err}",
            instigator,
            when,
            result="failure",
            error=f"{type(err).__name__}: {err}",
        )

    @staticmethod
    def _name(instigator: str, when: datetime | None) -> str:
        kind, _, name = instigator.partition(":")
        return f"{kind} {name}" + (f" tick {when.isoformat()}" if when is not None else "")

    def _emit(self, level: int, message: str, instigator: str, when: datetime | None, **facts: Any) -> None:
        fields = {"event": "tick", "instigator": instigator, **facts}
        if when is not None:
            fields["tick_time"] = when.isoformat()
        self._log.log(level, "%s", message, extra={"deras": fields})
