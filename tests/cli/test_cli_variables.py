"""``deras variables list|get|set|delete``: the real command against a fresh DERAS_HOME."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable

Deras = Callable[..., subprocess.CompletedProcess[str]]


def test_set_get_list_and_delete(deras: Deras) -> None:
    assert deras("variables", "list").stdout.strip().startswith("no variables")
    assert deras("variables", "set", "region", "eu-west-1", "--description", "where").returncode == 0
    assert deras("variables", "set", "cfg", '{"a": [1, 2]}', "--json").returncode == 0
    assert deras("variables", "get", "region").stdout == "eu-west-1\n"
    listed = json.loads(deras("variables", "list", "--json").stdout)
    assert [(v["key"], v["value"], v["description"]) for v in listed["variables"]] == [
        ("cfg", '{"a": [1, 2]}', None),
        ("region", "eu-west-1", "where"),
    ]
    table = deras("variables", "list").stdout
    assert "region" in table and "eu-west-1" in table and '{"a": [1, 2]}' in table
    got = json.loads(deras("variables", "get", "cfg", "--json").stdout)
    assert got == {"key": "cfg", "value": '{"a": [1, 2]}'}
    assert deras("variables", "delete", "region").stdout == "deleted variable region\n"
    assert [v["key"] for v in json.loads(deras("variables", "list", "--json").stdout)["variables"]] == ["cfg"]


def test_a_missing_variable_is_an_error_unless_a_default_is_given(deras: Deras) -> None:
    missing = deras("variables", "get", "nope")
    assert missing.returncode == 1
    assert "variable 'nope' does not exist" in missing.stderr
    assert deras("variables", "get", "nope", "--default", "x").stdout == "x\n"
    gone = deras("variables", "delete", "nope")
    assert gone.returncode == 1 and "variable 'nope' does not exist" in gone.stderr


def test_set_with_json_refuses_a_value_that_is_not_json(deras: Deras) -> None:
    bad = deras("variables", "set", "cfg", "{a", "--json")
    assert bad.returncode == 1
    assert "--json, but the value is not JSON" in bad.stderr
    assert json.loads(deras("variables", "list", "--json").stdout) == {"variables": []}


def test_a_variable_set_by_the_cli_is_read_by_python(deras: Deras) -> None:
    deras("variables", "set", "cfg", '{"batch": 5}', "--json")
    code = "import deras as dg; print(dg.Variable.get('cfg', deserialize_json=True)['batch'])"
    assert deras("-c", code, python=True).stdout.strip() == "5"
