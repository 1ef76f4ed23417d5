"""Reading the compat setting: a name, several, a list from deras.yaml; anything else is refused."""

from __future__ import annotations

from typing import Any

import pytest

from deras._compat.modes import parse_compat
from deras._core.errors import ConfigError


@pytest.mark.parametrize(
    ("value", "modes"),
    [
        ("airflow", {"airflow"}),
        ("Dagster", {"dagster"}),
        ("airflow,dagster", {"airflow", "dagster"}),
        (" dagster , airflow ", {"airflow", "dagster"}),
        (["airflow", "dagster"], {"airflow", "dagster"}),
        ("none", set()),
        ("", set()),
        (None, set()),
    ],
)
def test_compat_names_one_mode_or_several(value: Any, modes: set[str]) -> None:
    assert parse_compat(value, where="--compat") == modes


@pytest.mark.parametrize("value", ["foo", "airflow,prefect", ["airflow", "luigi"]])
def test_an_unknown_mode_is_an_error_naming_it_and_the_known_ones(value: Any) -> None:
    with pytest.raises(
        ConfigError, match=r"--compat: unknown compat mode '(foo|prefect|luigi)'.*airflow, dagster"
    ):
        parse_compat(value, where="--compat")


@pytest.mark.parametrize("value", [3, {"airflow": True}, [1]])
def test_a_value_that_is_not_names_is_an_error(value: Any) -> None:
    with pytest.raises(ConfigError, match=r"^deras.yaml: expected airflow, dagster or a list of them, got "):
        parse_compat(value, where="deras.yaml")
