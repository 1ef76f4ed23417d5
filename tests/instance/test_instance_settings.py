"""Instance settings of deras.yaml that reach the metadata store."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from deras._core.errors import ConfigError
from deras._instance.instance import DerasInstance


def _instance(home: Path, **config: object) -> DerasInstance:
    home.mkdir(exist_ok=True)
    (home / "deras.yaml").write_text(yaml.safe_dump(config))
    return DerasInstance.get(home)


def test_database_retry_seconds_reaches_the_store(tmp_path: Path) -> None:
    instance = _instance(tmp_path / "home", database_retry_seconds=5)
    try:
        assert instance.store._db.retry_seconds == 5.0
    finally:
        instance.dispose()


@pytest.mark.parametrize("value", ["soon", -1, True])
def test_a_bad_database_retry_seconds_is_refused_naming_the_file(tmp_path: Path, value: object) -> None:
    instance = _instance(tmp_path / "home", database_retry_seconds=value)
    with pytest.raises(ConfigError, match=r"deras.yaml: database_retry_seconds must be a number"):
        instance.get_runs()
