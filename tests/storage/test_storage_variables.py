"""Variables in the metadata database: set, get, replace, delete and list, on SQLite and Postgres."""

from __future__ import annotations

import pytest

from deras._core.errors import DerasError
from deras._storage import MetadataStore
from deras._storage.variables import VariableNotFoundError


def test_a_variable_set_is_read_back(store: MetadataStore) -> None:
    store.variables.set("region", "eu-west-1", now=10.0, description="where we run")
    assert store.variables.get("region") == "eu-west-1"
    [record] = store.variables.list()
    assert (record.key, record.value, record.description, record.update_time) == (
        "region",
        "eu-west-1",
        "where we run",
        10.0,
    )


def test_setting_a_key_again_replaces_its_value_and_description(store: MetadataStore) -> None:
    store.variables.set("n", "1", now=1.0, description="first")
    store.variables.set("n", "2", now=2.0)
    [record] = store.variables.list()
    assert (record.value, record.description, record.update_time) == ("2", None, 2.0)


def test_a_missing_variable_is_a_key_error_naming_it(store: MetadataStore) -> None:
    with pytest.raises(VariableNotFoundError, match="variable 'nope' does not exist") as info:
        store.variables.get("nope")
    assert isinstance(info.value, KeyError)
    assert str(info.value).startswith("variable 'nope'")  # no quotes around it, unlike KeyError's


def test_delete_removes_a_key_and_says_whether_it_existed(store: MetadataStore) -> None:
    store.variables.set("gone", "x", now=1.0)
    assert store.variables.delete("gone") is True
    assert store.variables.delete("gone") is False
    assert store.variables.list() == []


def test_list_is_ordered_by_key_and_keeps_text_exactly(store: MetadataStore) -> None:
    text = '{"a": [1, 2]}\n  ünïcode ✓ '
    for key in ("b", "a", "c"):
        store.variables.set(key, text, now=1.0)
    assert [(r.key, r.value) for r in store.variables.list()] == [("a", text), ("b", text), ("c", text)]


@pytest.mark.parametrize(("key", "value"), [("", "x"), ("k", 3)])
def test_a_bad_key_or_value_is_refused(store: MetadataStore, key: str, value: object) -> None:
    with pytest.raises(DerasError, match="variable"):
        store.variables.set(key, value, now=1.0)  # type: ignore[arg-type]
