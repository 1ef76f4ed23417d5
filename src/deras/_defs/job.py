"""``define_asset_job``: a named selection of assets, run together."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class AssetJob:
    """A named, reusable selection of assets (resolved when Definitions are built).

    >>> job = AssetJob(name="daily_prices", selection="group:prices")
    >>> job.name
    'daily_prices'
    """

    name: str
    selection: Any = "*"
    partitions_def: Any = None
    tags: dict[str, str] = field(default_factory=dict)
    executor: Any = None
    description: str | None = None
    run_retry_policy: Any = None
    node_ids: frozenset[str] = frozenset()  # filled in by Definitions
    config: dict[str, Any] = field(default_factory=dict)  # default run config, under the run's own


def define_asset_job(
    name: str,
    selection: Any = "*",
    partitions_def: Any = None,
    tags: dict[str, str] | None = None,
    executor: Any = None,
    description: str | None = None,
    run_retry_policy: Any = None,
    config: Any = None,
    executor_def: Any = None,
) -> AssetJob:
    """Name a selection of assets so schedules, sensors and the CLI can run it.

    ``selection`` is a selection string (``"group:prices"``, ``"+report"``), an
    ``AssetSelection`` or a list of assets/keys. ``config`` is the run config its runs start from
    (``dg.RunConfig(ops={"asset_name": MyConfig(...)})`` or the dict form). ``executor_def=`` is
    Dagster's name for ``executor=``.
    """
    from .._core.errors import ConfigError
    from .executor_choice import executor_from
    from .run_config import normalize_run_config

    where = f"define_asset_job('{name}')"
    if executor is not None and executor_def is not None:
        raise ConfigError(f"{where}: give executor= or executor_def=, not both")
    chosen = executor_from(executor if executor is not None else executor_def, where=where)
    return AssetJob(
        name,
        selection,
        partitions_def,
        dict(tags or {}),
        chosen,
        description,
        run_retry_policy,
        config=normalize_run_config(config, where=f"{where} config"),
    )
