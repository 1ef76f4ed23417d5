"""What a launch asks for, as JSON: shared by the web side (client) and the code server.

Pure data, no definitions: the web process builds and checks the shape of a request; the code
server, which holds the definitions, checks what it names and queues the runs.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from .._core.errors import DerasError


class LaunchRejected(DerasError):
    """The request names something the code location does not have (an unknown asset, a bad
    partition key, a DAG date past its end_date, conf that does not fit the params...).

    Nothing was written. The message says what is wrong and how to fix it.
    """


_TARGETS = ("selection", "job", "dag_id", "backfill", "reexecute", "clear")


@dataclass(frozen=True, slots=True)
class LaunchRequest:
    """One launch: exactly one of ``selection``, ``job``, ``dag_id``, ``backfill``,
    ``reexecute`` or ``clear``, with the options that go with it.

    - ``{"selection": "group:prices", "partition": "2025-01-01", "tags": {...}, "config": {...}}``
    - ``{"job": "daily_prices", "partition": "2025-01-01"}``
    - ``{"dag_id": "etl", "conf": {"n": 3}, "logical_date": "2025-01-01"}``
    - ``{"backfill": {"job": "daily_prices", "partition_range": ["2025-01-01", "2025-01-31"]}}``
      (or ``"selection"``/``"dag_id"``, and ``"partitions": [...]`` instead of a range)
    - ``{"reexecute": RUN_ID, "from_failure": true}``: a queued child run
    - ``{"clear": {"run_id": RUN_ID, "task_ids": ["load"], "downstream": true}}``: task instances
      of a DAG run run again, in that run

    ``request_id`` makes a launch of a run idempotent: sending the same request twice (a retry
    after a timeout) queues one run. It is made up when not given.

    >>> LaunchRequest.from_json({"job": "daily", "partition": "2025-01-01"}).target_kind
    'job'
    >>> LaunchRequest.from_json({"job": "daily", "dag_id": "etl"})
    Traceback (most recent call last):
    ...
    deras._code_server.request.LaunchRejected: a launch names exactly one of selection, job, dag_id, \
backfill, reexecute, clear; this one names job, dag_id
    """

    selection: str | list[str] | None = None
    job: str | None = None
    dag_id: str | None = None
    backfill: dict[str, Any] | None = None
    reexecute: str | None = None
    clear: dict[str, Any] | None = None
    partition: str | None = None
    partition_range: tuple[str, str] | None = None
    tags: dict[str, str] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    conf: dict[str, Any] = field(default_factory=dict)
    logical_date: str | None = None
    from_failure: bool = True
    request_id: str = ""

    @property
    def target_kind(self) -> str:
        return next(name for name in _TARGETS if getattr(self, name) is not None)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if value is None or value == {} or (name == "from_failure" and value):
                continue
            out[name] = list(value) if name == "partition_range" else value
        return out

    @classmethod
    def from_json(cls, data: Any) -> LaunchRequest:
        """Check the request's shape (types, one target); raises ``LaunchRejected`` saying what is off."""
        if not isinstance(data, dict):
            raise LaunchRejected(f"a launch request is a JSON object, got {type(data).__name__}")
        unknown = sorted(set(data) - set(cls.__dataclass_fields__))
        if unknown:
            raise LaunchRejected(
                f"unknown field(s) {', '.join(unknown)} in the launch request; known: "
                + ", ".join(cls.__dataclass_fields__)
            )
        named = [t for t in _TARGETS if data.get(t) is not None]
        if len(named) != 1:
            raise LaunchRejected(
                f"a launch names exactly one of {', '.join(_TARGETS)}; this one names "
                + (", ".join(named) if named else "none")
            )
        _expect(data, "selection", (str, list))
        if isinstance(data.get("selection"), list) and not all(isinstance(s, str) for s in data["selection"]):
            raise LaunchRejected("selection: a selection string or a list of asset keys (strings)")
        for name in ("job", "dag_id", "reexecute", "partition", "logical_date", "request_id"):
            _expect(data, name, (str,))
        for name in ("backfill", "clear", "tags", "config", "conf"):
            _expect(data, name, (dict,))
        _expect(data, "from_failure", (bool,))
        tags = data.get("tags") or {}
        bad = [k for k, v in tags.items() if not isinstance(v, str)]
        if bad:
            raise LaunchRejected(f"tags map strings to strings; tag(s) {', '.join(bad)} have other values")
        pr = data.get("partition_range")
        if pr is not None:
            if not (isinstance(pr, list | tuple) and len(pr) == 2 and all(isinstance(k, str) for k in pr)):
                raise LaunchRejected(
                    'partition_range is a pair of partition keys, e.g. ["2025-01-01", "2025-01-31"]'
                )
            if data.get("partition") is not None:
                raise LaunchRejected("give partition or partition_range, not both")
        kwargs = {k: v for k, v in data.items() if v is not None}
        if pr is not None:
            kwargs["partition_range"] = (pr[0], pr[1])
        kwargs.setdefault("request_id", uuid.uuid4().hex)
        return cls(**kwargs)


@dataclass(frozen=True, slots=True)
class LaunchResult:
    """``run_id`` of the queued run (or of the DAG run being cleared), or ``backfill_id``."""

    run_id: str | None = None
    backfill_id: str | None = None

    @property
    def id(self) -> str:
        return self.run_id or self.backfill_id or ""

    def to_json(self) -> dict[str, str]:
        return {k: v for k, v in (("run_id", self.run_id), ("backfill_id", self.backfill_id)) if v}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LaunchResult:
        return cls(data.get("run_id"), data.get("backfill_id"))


def _expect(data: dict[str, Any], name: str, types: tuple[type, ...]) -> None:
    value = data.get(name)
    if value is not None and not isinstance(value, types):
        wanted = " or ".join(
            {str: "a string", list: "a list", dict: "an object", bool: "true/false"}[t] for t in types
        )
        raise LaunchRejected(f"{name} must be {wanted}, got {value!r}")
