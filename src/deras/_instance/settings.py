"""Instance settings: ``$DERAS_HOME``, ``DERAS_DATABASE_URL`` and ``deras.yaml``."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._core.errors import ConfigError

# Settings that do something today; others are refused rather than silently ignored.
_KNOWN_KEYS = {
    "database_url",
    "database_retry_seconds",
    "code_location",
    "max_concurrent_runs",
    "tag_concurrency_limits",
    "pools",
    "run_retries",
    "run_monitoring",
    "daemon",
    "notifications",
    "executor",
    "compat",
}


@dataclass(frozen=True, slots=True)
class Settings:
    """What an instance is configured with; environment variables win over ``deras.yaml``."""

    home: Path
    database_url: str
    config: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_env(cls, home: str | os.PathLike[str] | None = None) -> Settings:
        root = Path(home or os.environ.get("DERAS_HOME") or ".deras").absolute()
        config = read_config(root / "deras.yaml")
        url = (
            os.environ.get("DERAS_DATABASE_URL")
            or config.get("database_url")
            or f"sqlite:///{root / 'deras.db'}"
        )
        return cls(root, str(url), config)


def database_retry_seconds(settings: Settings) -> float | None:
    """``database_retry_seconds`` of deras.yaml (None: the store's default), checked."""
    value = settings.config.get("database_retry_seconds")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(
            f"{settings.home / 'deras.yaml'}: database_retry_seconds must be a number of seconds "
            f">= 0 (how long to keep reconnecting to a lost database), got {value!r}"
        )
    return float(value)


def read_config(path: Path) -> dict[str, Any]:
    """Read ``deras.yaml``; unknown keys and bad YAML are clear errors naming the file."""
    if not path.is_file():
        return {}
    import yaml

    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {err}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of settings, got {type(data).__name__}")
    unknown = sorted(set(data) - _KNOWN_KEYS)
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s) {unknown}; known: {sorted(_KNOWN_KEYS)}")
    return data
