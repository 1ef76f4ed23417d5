"""What a schedule or sensor runs: a job object (asset job or DAG) or a job's name."""

from __future__ import annotations

from typing import Any

from .._core.errors import DefinitionError
from .job import AssetJob


def job_target(job: Any, job_name: str | None, where: str) -> tuple[Any, str | None]:
    """``(job object or None, job name or None)`` from the ``job=`` / ``job_name=`` arguments.

    ``job`` is an ``AssetJob`` (from ``define_asset_job``) or a ``DAG``; ``job_name`` names one
    that ``Definitions`` must hold.

    >>> from deras._defs.job import define_asset_job
    >>> job_target(define_asset_job("daily"), None, "schedule 's'")[1]
    'daily'
    """
    if job is not None and job_name is not None:
        raise DefinitionError(f"{where}: give job= or job_name=, not both")
    if job is None:
        if job_name is not None and (not isinstance(job_name, str) or not job_name):
            raise DefinitionError(f"{where}: job_name={job_name!r} must be the name of a job or DAG")
        return None, job_name
    return job, job_name_of(job, where)


def job_name_of(job: Any, where: str) -> str:
    """The name runs of ``job`` are recorded under: an asset job's name, a DAG's id."""
    if isinstance(job, AssetJob):
        return job.name
    dag_id = getattr(job, "dag_id", None)
    if isinstance(dag_id, str):
        return dag_id
    if isinstance(job, str):
        raise DefinitionError(f"{where}: job={job!r} is a name; pass it as job_name={job!r}")
    if callable(job) and hasattr(job, "__wrapped__"):
        name = getattr(job, "__name__", "dag")
        raise DefinitionError(f"{where}: job={name} is the @dag function, not the DAG: call it, job={name}()")
    raise DefinitionError(
        f"{where}: job={job!r} is not a job: pass define_asset_job(...) or a DAG, or job_name='...'"
    )
