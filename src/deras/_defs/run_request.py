"""What a schedule or sensor function returns: run requests, skip reasons, sensor results.

These are plain values: building them checks their types, nothing more. What a tick does with
them (deduplicating run keys, creating runs exactly once) is the daemon's business.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import KW_ONLY, dataclass, field
from typing import Any

from .._core.errors import DerasError
from .run_config import RunConfig


class TickEvaluationError(DerasError):
    """A schedule or sensor function raised, or returned something that is not a tick result."""


@dataclass(frozen=True)
class RunRequest:
    """Ask for one run of the schedule's or sensor's job (or of ``job_name`` / ``asset_selection``).

    A sensor's ``run_key`` is launched at most once, ever: returning the same key again is a
    no-op. ``partition_key`` picks the partition of a partitioned job. ``partition_key``,
    ``job_name`` and ``asset_selection`` are keyword-only.

    >>> r = RunRequest(run_key="file-1.csv", tags={"source": "s3"}, partition_key="2025-01-01")
    >>> r.run_key, r.partition_key, r.tags, r.run_config
    ('file-1.csv', '2025-01-01', {'source': 's3'}, {})
    """

    run_key: str | None = None
    run_config: Mapping[str, Any] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    _: KW_ONLY
    partition_key: str | None = None
    job_name: str | None = None
    asset_selection: Any = None

    def __post_init__(self) -> None:
        if self.run_key is not None and not isinstance(self.run_key, str):
            raise TypeError(f"RunRequest(run_key={self.run_key!r}): a run key is a string or None")
        if self.partition_key is not None and not isinstance(self.partition_key, str):
            raise TypeError(
                f"RunRequest(partition_key={self.partition_key!r}): a partition key is a string or None"
            )
        if self.job_name is not None and not isinstance(self.job_name, str):
            raise TypeError(
                f"RunRequest(job_name={self.job_name!r}): give the job's name as a string, or leave it "
                "unset to run the schedule's or sensor's job"
            )
        run_config: Any = {} if self.run_config is None else self.run_config
        if isinstance(run_config, RunConfig):
            run_config = run_config.to_dict()
        if not isinstance(run_config, Mapping):
            raise TypeError(f"RunRequest(run_config={run_config!r}): run config is a dict")
        object.__setattr__(self, "run_config", dict(run_config))
        object.__setattr__(self, "tags", string_tags(self.tags, "RunRequest(tags=...)"))
        if isinstance(self.asset_selection, Iterable) and not isinstance(self.asset_selection, str):
            selection = list(self.asset_selection)
            if not selection:
                raise TypeError("RunRequest(asset_selection=[]) selects nothing: name at least one asset")
            object.__setattr__(self, "asset_selection", selection)


@dataclass(frozen=True)
class SkipReason:
    """Why a tick requested no run; shown with the tick.

    >>> SkipReason("no new files").skip_message
    'no new files'
    """

    skip_message: str | None = None

    def __post_init__(self) -> None:
        if self.skip_message is not None and not isinstance(self.skip_message, str):
            raise TypeError(f"SkipReason({self.skip_message!r}): the message is a string")


@dataclass(frozen=True)
class AddDynamicPartitionsRequest:
    """Add keys to a ``DynamicPartitionsDefinition`` when the sensor's tick is stored.

    >>> AddDynamicPartitionsRequest("files", ["a.csv"]).partition_keys
    ('a.csv',)
    """

    partitions_def_name: str
    partition_keys: tuple[str, ...]

    def __post_init__(self) -> None:
        _check_partitions_request(self)


@dataclass(frozen=True)
class DeleteDynamicPartitionsRequest:
    """Delete keys from a ``DynamicPartitionsDefinition`` when the sensor's tick is stored.

    >>> DeleteDynamicPartitionsRequest("files", ["a.csv"]).partition_keys
    ('a.csv',)
    """

    partitions_def_name: str
    partition_keys: tuple[str, ...]

    def __post_init__(self) -> None:
        _check_partitions_request(self)


DynamicPartitionsRequest = AddDynamicPartitionsRequest | DeleteDynamicPartitionsRequest


@dataclass(frozen=True)
class SensorResult:
    """Everything one sensor tick decided: runs or a skip reason, a cursor, partition changes.

    ``cursor`` replaces ``context.update_cursor`` (use one or the other).

    >>> result = SensorResult(run_requests=[RunRequest(run_key="a")], cursor="7")
    >>> [r.run_key for r in result.run_requests], result.cursor
    (['a'], '7')
    """

    run_requests: list[RunRequest] | None = None
    skip_reason: SkipReason | str | None = None
    cursor: str | None = None
    dynamic_partitions_requests: list[DynamicPartitionsRequest] | None = None

    def __post_init__(self) -> None:
        requests = list(self.run_requests or [])
        bad = [r for r in requests if not isinstance(r, RunRequest)]
        if bad:
            raise TypeError(f"SensorResult(run_requests=...) holds {describe(bad[0])}, not a RunRequest")
        skip = self.skip_reason
        if isinstance(skip, str):
            skip = SkipReason(skip)
        elif skip is not None and not isinstance(skip, SkipReason):
            raise TypeError(f"SensorResult(skip_reason={skip!r}): give a SkipReason or a string")
        if requests and skip is not None:
            raise TypeError(
                "SensorResult got both run_requests and a skip_reason: a tick either requests runs or skips"
            )
        if self.cursor is not None and not isinstance(self.cursor, str):
            raise TypeError(
                f"SensorResult(cursor={self.cursor!r}): a cursor is a string; serialise it, "
                "e.g. json.dumps(...) or str(last_id)"
            )
        partition_requests = list(self.dynamic_partitions_requests or [])
        for r in partition_requests:
            if not isinstance(r, AddDynamicPartitionsRequest | DeleteDynamicPartitionsRequest):
                raise TypeError(
                    f"SensorResult(dynamic_partitions_requests=...) holds {describe(r)}: use "
                    "partitions_def.build_add_request(keys) or build_delete_request(keys)"
                )
        object.__setattr__(self, "run_requests", requests)
        object.__setattr__(self, "skip_reason", skip)
        object.__setattr__(self, "dynamic_partitions_requests", partition_requests)


def string_tags(tags: Mapping[str, str] | None, where: str) -> dict[str, str]:
    """``tags`` as a new dict; every key and value must be a string."""
    if tags is None:
        return {}
    if not isinstance(tags, Mapping):
        raise TypeError(f"{where}: tags are a dict of strings, got {describe(tags)}")
    for key, value in tags.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError(
                f"{where}: tag {key!r}: {value!r} is not a string pair; tags map strings to strings "
                f"(use json.dumps or str for other values)"
            )
    return dict(tags)


def describe(value: object) -> str:
    """A returned value for an error message: its type and a short repr."""
    import reprlib

    return f"{type(value).__name__} {reprlib.repr(value)}"


def _check_partitions_request(request: AddDynamicPartitionsRequest | DeleteDynamicPartitionsRequest) -> None:
    what = type(request).__name__
    if not isinstance(request.partitions_def_name, str) or not request.partitions_def_name:
        raise TypeError(f"{what}: partitions_def_name must be the definition's name, a non-empty string")
    keys = request.partition_keys
    if isinstance(keys, str):
        raise TypeError(f"{what}(partition_keys={keys!r}): give a list of keys, e.g. [{keys!r}]")
    keys = tuple(keys)
    bad = [k for k in keys if not isinstance(k, str)]
    if bad:
        raise TypeError(f"{what}: partition key {bad[0]!r} is not a string")
    object.__setattr__(request, "partition_keys", keys)
