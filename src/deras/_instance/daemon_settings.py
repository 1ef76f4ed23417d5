"""What ``deras.yaml`` says about running things: the run queue, pools, retries, the daemon.

```yaml
max_concurrent_runs: 10
tag_concurrency_limits:
  - {key: team, value: finance, limit: 1}   # value omitted: each value of the key gets `limit`
pools: {db: 2}                               # slots shared by nodes with pool="db" in every run
run_retries: {max_retries: 0}               # the default RunRetryPolicy of jobs and DAGs
run_monitoring: {heartbeat_interval_seconds: 2, heartbeat_timeout_seconds: 30}
daemon:
  interval_seconds: 1.0         # idle: how often to look for work other processes queued
  evaluation_timeout_seconds: 60
  max_catchup_ticks: 5          # a schedule whose daemon was down runs at most its latest N missed ticks
  launcher: pool                # pool (warm worker processes) or process (one process per run)
  workers: 4                    # warm pool size
  runs_per_worker: 100          # a pool worker is replaced after this many runs
  backfill_batch_size: 10000
```
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .._core.errors import ConfigError
from .._exec.process_heartbeat import DEFAULT_INTERVAL_SECONDS


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TagConcurrencyLimit(_Strict):
    key: str
    value: str | None = None
    limit: int = Field(ge=0)


class RunRetrySettings(_Strict):
    max_retries: int = Field(default=0, ge=0)
    from_failure: bool = True


class RunMonitoringSettings(_Strict):
    heartbeat_interval_seconds: float = Field(default=DEFAULT_INTERVAL_SECONDS, gt=0)
    heartbeat_timeout_seconds: float = Field(default=30.0, gt=0, le=60)


class DaemonLoopSettings(_Strict):
    interval_seconds: float = Field(default=1.0, gt=0)
    evaluation_timeout_seconds: float = Field(default=60.0, gt=0)
    max_catchup_ticks: int = Field(default=5, ge=1)
    launcher: Literal["pool", "process"] = "pool"
    workers: int = Field(default=4, ge=1)
    runs_per_worker: int = Field(default=100, ge=1)
    backfill_batch_size: int = Field(default=10_000, ge=1)


class DaemonSettings(_Strict):
    max_concurrent_runs: int = Field(default=10, ge=1)
    tag_concurrency_limits: list[TagConcurrencyLimit] = Field(default_factory=list)
    pools: dict[str, int] = Field(default_factory=dict)
    run_retries: RunRetrySettings = RunRetrySettings()
    run_monitoring: RunMonitoringSettings = RunMonitoringSettings()
    daemon: DaemonLoopSettings = DaemonLoopSettings()

    @classmethod
    def from_config(cls, config: dict[str, Any], where: str = "deras.yaml") -> DaemonSettings:
        """The settings in ``config`` (all of deras.yaml); a bad value is a ConfigError naming it."""
        fields = {k: v for k, v in config.items() if k in cls.model_fields}
        try:
            settings = cls.model_validate(fields)
        except ValidationError as err:
            problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in err.errors())
            raise ConfigError(f"{where}: {problems}") from None
        bad = {name: n for name, n in settings.pools.items() if n < 0}
        if bad:
            raise ConfigError(f"{where}: pools: slot counts must be >= 0, got {bad}")
        return settings
