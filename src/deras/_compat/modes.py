"""Which projects' imports deras serves: ``airflow``, ``dagster``, both, or none.

The setting comes from ``--compat`` on a command that loads code, else ``DERAS_COMPAT``, else
``compat:`` in deras.yaml. The command writes what it chose into ``DERAS_COMPAT``: every
process that loads user code for it (the daemon's run workers, the code server, step
processes) inherits it from the environment, and the loader applies it before each import.
"""

from __future__ import annotations

from collections.abc import Sequence

from .._core.errors import ConfigError

COMPAT_MODES = ("airflow", "dagster")
ENV_VAR = "DERAS_COMPAT"


def parse_compat(value: str | Sequence[str] | None, *, where: str) -> frozenset[str]:
    """The modes ``value`` names: ``"airflow"``, ``"dagster"``, ``"airflow,dagster"`` or a list
    of them; ``None``, ``""`` and ``"none"`` are none. Anything else is a ConfigError.

    >>> sorted(parse_compat("dagster, airflow", where="--compat"))
    ['airflow', 'dagster']
    >>> parse_compat("none", where="--compat")
    frozenset()
    """
    if value is None:
        return frozenset()
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not all(isinstance(item, str) for item in items):
        raise ConfigError(f"{where}: expected airflow, dagster or a list of them, got {value!r}")
    modes = {item.strip().lower() for item in items} - {"", "none"}
    unknown = sorted(modes - set(COMPAT_MODES))
    if unknown:
        raise ConfigError(
            f"{where}: unknown compat mode {', '.join(map(repr, unknown))}. Fix: use "
            "airflow, dagster, both (airflow,dagster) or none"
        )
    return frozenset(modes)
