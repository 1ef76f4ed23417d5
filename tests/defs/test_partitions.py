"""Static, dynamic and multi-dimensional partitions, and the index-space helpers they share."""

from __future__ import annotations

import pickle
import re
from datetime import UTC, date, datetime

import pytest

from deras._core.errors import DefinitionError, DerasError, PartitionKeyError
from deras._core.events import PartitionSpan
from deras._defs.multi_partitions import WIDE_STRIDE, MultiPartitionKey, MultiPartitionsDefinition
from deras._defs.partitions import (
    DynamicPartitionsDefinition,
    DynamicPartitionsStore,
    StaticPartitionsDefinition,
    intersect_ranges,
    ranges_from_indices,
)
from deras._defs.periodic_partitions import DailyPartitionsDefinition


class MemoryDynamicStore:
    """The smallest DynamicPartitionsStore: sequence numbers are never reused after a delete."""

    def __init__(self) -> None:
        self._indices: dict[str, dict[str, int]] = {}
        self._next: dict[str, int] = {}

    def add(self, name: str, keys: list[str]) -> None:
        indices = self._indices.setdefault(name, {})
        for key in keys:
            if key not in indices:
                indices[key] = self._next.get(name, 0)
                self._next[name] = indices[key] + 1

    def delete(self, name: str, key: str) -> None:
        del self._indices[name][key]

    def get_dynamic_partitions(self, name: str) -> list[str]:
        return list(self._indices.get(name, {}))

    def get_dynamic_partition_indices(self, name: str) -> dict[str, int]:
        return dict(self._indices.get(name, {}))


REGIONS = StaticPartitionsDefinition(["eu", "us", "apac"])


# -- static --------------------------------------------------------------------------------------


def test_static_keys_keep_their_order_and_index_is_position() -> None:
    assert REGIONS.get_partition_keys() == ["eu", "us", "apac"]
    assert REGIONS.get_num_partitions() == 3
    assert [REGIONS.key_to_index(k) for k in ["eu", "us", "apac"]] == [0, 1, 2]
    assert REGIONS.index_to_key(2) == "apac"
    assert REGIONS.all_index_ranges() == [(0, 3)]


def test_static_index_space_id_is_a_short_hash_of_the_keys() -> None:
    assert REGIONS.index_space_id.startswith("static|")
    assert len(REGIONS.index_space_id) == len("static|") + 12
    assert REGIONS.index_space_id == StaticPartitionsDefinition(["eu", "us", "apac"]).index_space_id
    assert REGIONS.index_space_id != StaticPartitionsDefinition(["eu", "apac", "us"]).index_space_id


def test_static_keys_to_ranges_merges_adjacent_indices() -> None:
    letters = StaticPartitionsDefinition(list("abcdef"))
    assert letters.keys_to_ranges(["e", "a", "c", "b", "a"]) == [(0, 3), (4, 5)]
    assert list(letters.ranges_to_keys([(0, 3), (4, 5)])) == ["a", "b", "c", "e"]
    assert letters.to_span(["f", "e"]) == PartitionSpan(letters.index_space_id, [(4, 6)])
    assert letters.partition_key_range_to_ranges("b", "d") == [(1, 4)]
    assert letters.get_partition_keys_in_range("b", "d") == ["b", "c", "d"]


def test_unknown_static_key_error_lists_valid_keys() -> None:
    with pytest.raises(PartitionKeyError) as err:
        REGIONS.validate_partition_key("africa")
    assert str(err.value) == (
        "partition key 'africa' is not in StaticPartitionsDefinition(['eu', 'us', 'apac']): "
        "expected one of 'eu', 'us', 'apac'"
    )
    with pytest.raises(PartitionKeyError, match="'africa'"):
        REGIONS.key_to_index("africa")
    with pytest.raises(IndexError):
        REGIONS.index_to_key(3)


def test_long_static_key_lists_are_abbreviated_in_messages() -> None:
    many = StaticPartitionsDefinition([f"k{i}" for i in range(100)])
    assert repr(many) == "StaticPartitionsDefinition(['k0', 'k1', 'k2', 'k3', 'k4', ... (100 keys)])"
    with pytest.raises(PartitionKeyError, match=r"'k4', \.\.\. \(100 keys\)$"):
        many.validate_partition_key("x")


@pytest.mark.parametrize("keys", [["a", "a"], ["a", ""], ["a", 1], "abc"])
def test_bad_static_keys_are_definition_errors(keys: object) -> None:
    with pytest.raises(DefinitionError):
        StaticPartitionsDefinition(keys)  # type: ignore[arg-type]


def test_static_definitions_compare_by_keys() -> None:
    assert StaticPartitionsDefinition(["a", "b"]) == StaticPartitionsDefinition(("a", "b"))
    assert len({StaticPartitionsDefinition(["a"]), StaticPartitionsDefinition(["a"])}) == 1
    assert StaticPartitionsDefinition(["a", "b"]) != StaticPartitionsDefinition(["b", "a"])


# -- dynamic -------------------------------------------------------------------------------------


def test_dynamic_keys_and_indices_come_from_the_store() -> None:
    store = MemoryDynamicStore()
    files = DynamicPartitionsDefinition(name="files")
    store.add("files", ["a.csv", "b.csv", "c.csv"])
    assert isinstance(store, DynamicPartitionsStore)
    assert files.get_partition_keys(dynamic_partitions_store=store) == ["a.csv", "b.csv", "c.csv"]
    assert files.get_num_partitions(dynamic_partitions_store=store) == 3
    assert files.key_to_index("b.csv", dynamic_partitions_store=store) == 1
    assert files.index_to_key(2, dynamic_partitions_store=store) == "c.csv"
    assert files.index_space_id == "dynamic|files"


def test_dynamic_indices_are_stable_after_deletion() -> None:
    store = MemoryDynamicStore()
    files = DynamicPartitionsDefinition(name="files")
    store.add("files", ["a", "b", "c"])
    store.delete("files", "b")
    store.add("files", ["d"])
    assert files.key_to_index("d", store) == 3
    assert files.all_index_ranges(dynamic_partitions_store=store) == [(0, 1), (2, 4)]
    assert files.keys_to_ranges(["c", "a", "d"], store) == [(0, 1), (2, 4)]
    assert list(files.ranges_to_keys([(2, 4)], store)) == ["c", "d"]
    assert not files.has_partition_key("b", dynamic_partitions_store=store)
    with pytest.raises(IndexError):
        list(files.ranges_to_keys([(1, 2)], store))


def test_dynamic_partitions_without_a_store_say_how_to_get_one() -> None:
    files = DynamicPartitionsDefinition(name="files")
    with pytest.raises(DerasError, match="dynamic_partitions_store"):
        files.get_partition_keys()


def test_unknown_dynamic_key_error_says_how_to_add_keys() -> None:
    store = MemoryDynamicStore()
    files = DynamicPartitionsDefinition(name="files")
    with pytest.raises(PartitionKeyError, match=r"instance.add_dynamic_partitions\('files', \[...\]\)"):
        files.validate_partition_key("a.csv", dynamic_partitions_store=store)
    store.add("files", ["b.csv"])
    with pytest.raises(PartitionKeyError, match=r"keys added so far: 'b\.csv'"):
        files.key_to_index("a.csv", store)


def test_dynamic_definitions_compare_by_name() -> None:
    assert DynamicPartitionsDefinition(name="x") == DynamicPartitionsDefinition("x")
    assert DynamicPartitionsDefinition(name="x") != DynamicPartitionsDefinition(name="y")
    assert repr(DynamicPartitionsDefinition(name="x")) == "DynamicPartitionsDefinition(name='x')"


# -- multi ---------------------------------------------------------------------------------------

DAYS = DailyPartitionsDefinition("2025-01-01", end_date="2025-01-04")
BY_DATE_REGION = MultiPartitionsDefinition({"region": REGIONS, "date": DAYS})


def test_multi_keys_join_dimension_keys_in_dimension_name_order() -> None:
    keys = BY_DATE_REGION.get_partition_keys()
    assert keys[:4] == ["2025-01-01|eu", "2025-01-01|us", "2025-01-01|apac", "2025-01-02|eu"]
    assert len(keys) == BY_DATE_REGION.get_num_partitions() == 9
    assert all(isinstance(k, MultiPartitionKey) for k in keys)
    assert keys[1].keys_by_dimension == {"date": "2025-01-01", "region": "us"}


def test_multi_partition_key_is_a_string_in_dimension_name_order() -> None:
    key = MultiPartitionKey({"region": "us", "date": "2025-01-02"})
    assert key == "2025-01-02|us"
    assert BY_DATE_REGION.has_partition_key(key)
    assert BY_DATE_REGION.has_partition_key("2025-01-02|us")
    assert pickle.loads(pickle.dumps(key)).keys_by_dimension == key.keys_by_dimension


def test_multi_index_is_row_major_with_a_dense_static_inner_dimension() -> None:
    first_day = date(2025, 1, 1).toordinal()
    assert BY_DATE_REGION.key_to_index("2025-01-02|us") == (first_day + 1) * 3 + 1
    assert BY_DATE_REGION.all_index_ranges() == [(first_day * 3, (first_day + 3) * 3)]
    keys = BY_DATE_REGION.get_partition_keys()
    assert [BY_DATE_REGION.index_to_key(BY_DATE_REGION.key_to_index(k)) for k in keys] == keys
    assert list(BY_DATE_REGION.ranges_to_keys(BY_DATE_REGION.keys_to_ranges(keys))) == keys


def test_multi_index_uses_a_wide_stride_for_an_inner_time_dimension() -> None:
    by_kind_date = MultiPartitionsDefinition({"kind": StaticPartitionsDefinition(["a", "b"]), "time": DAYS})
    assert by_kind_date.get_partition_keys()[:2] == ["a|2025-01-01", "a|2025-01-02"]
    ordinal = date(2025, 1, 2).toordinal()
    assert by_kind_date.key_to_index("b|2025-01-02") == WIDE_STRIDE + ordinal
    ranges = by_kind_date.all_index_ranges()
    assert len(ranges) == 2 and sum(b - a for a, b in ranges) == 6
    assert by_kind_date.keys_to_ranges(by_kind_date.get_partition_keys()) == ranges


def test_multi_indices_do_not_shift_when_the_time_dimension_start_changes() -> None:
    later = MultiPartitionsDefinition(
        {"region": REGIONS, "date": DailyPartitionsDefinition("2025-01-02", end_date="2025-01-04")}
    )
    assert later.index_space_id == BY_DATE_REGION.index_space_id
    assert later.key_to_index("2025-01-03|eu") == BY_DATE_REGION.key_to_index("2025-01-03|eu")


def test_multi_partitions_with_a_dynamic_dimension() -> None:
    store = MemoryDynamicStore()
    store.add("customers", ["acme", "globex"])
    by_customer_region = MultiPartitionsDefinition(
        {"customer": DynamicPartitionsDefinition(name="customers"), "region": REGIONS}
    )
    assert by_customer_region.get_num_partitions(dynamic_partitions_store=store) == 6
    assert by_customer_region.key_to_index("globex|us", store) == 1 * 3 + 1
    assert by_customer_region.all_index_ranges(dynamic_partitions_store=store) == [(0, 6)]
    assert not by_customer_region.has_partition_key("initech|us", dynamic_partitions_store=store)


def test_unknown_multi_key_error_names_the_bad_dimension() -> None:
    with pytest.raises(PartitionKeyError) as err:
        BY_DATE_REGION.validate_partition_key("2025-01-02|mars")
    message = str(err.value)
    assert "'2025-01-02|mars'" in message and "dimension 'region'" in message and "'eu'" in message
    assert "dimension 'date'" not in message
    with pytest.raises(PartitionKeyError, match=re.escape("'date|region' keys such as '2025-01-01|eu'")):
        BY_DATE_REGION.validate_partition_key("eu")


def test_multi_keys_parse_from_text_into_multi_partition_keys() -> None:
    key = BY_DATE_REGION.parse_partition_key("2025-01-02|us")
    assert isinstance(key, MultiPartitionKey)
    assert (key, key.keys_by_dimension) == ("2025-01-02|us", {"date": "2025-01-02", "region": "us"})
    assert BY_DATE_REGION.parse_partition_key(key) is key
    assert type(REGIONS.parse_partition_key("us")) is str


def test_parsing_a_bad_multi_key_names_the_valid_form() -> None:
    with pytest.raises(PartitionKeyError, match=re.escape("'date|region' keys such as '2025-01-01|eu'")):
        BY_DATE_REGION.parse_partition_key("2025-01-02")
    with pytest.raises(PartitionKeyError, match="dimension 'region'"):
        BY_DATE_REGION.parse_partition_key("2025-01-02|mars")


def test_multi_key_with_other_dimension_names_is_not_a_key() -> None:
    other = MultiPartitionKey({"day": "2025-01-01", "region": "eu"})
    assert not BY_DATE_REGION.has_partition_key(other)


@pytest.mark.parametrize(
    "dims",
    [
        {"only": REGIONS},
        {"a": REGIONS, "b": REGIONS, "c": REGIONS},
        {"a": REGIONS, "b": StaticPartitionsDefinition(["x|y"])},
        {"a": REGIONS, "b": BY_DATE_REGION},
    ],
)
def test_bad_multi_dimensions_are_definition_errors(dims: dict) -> None:
    with pytest.raises(DefinitionError):
        MultiPartitionsDefinition(dims)


def test_multi_definitions_compare_by_dimensions() -> None:
    same = MultiPartitionsDefinition({"date": DAYS, "region": REGIONS})
    assert same == BY_DATE_REGION and hash(same) == hash(BY_DATE_REGION)
    assert repr(same).startswith("MultiPartitionsDefinition({'date': DailyPartitionsDefinition(")


# -- range helpers -------------------------------------------------------------------------------


def test_ranges_from_indices_sorts_dedupes_and_merges() -> None:
    assert ranges_from_indices([7, 3, 1, 2, 2]) == [(1, 4), (7, 8)]
    assert ranges_from_indices([]) == []


def test_intersect_ranges() -> None:
    assert intersect_ranges([(0, 5), (8, 12)], [(3, 10)]) == [(3, 5), (8, 10)]
    assert intersect_ranges([(0, 2)], [(2, 4)]) == []


def test_partitions_module_reexports_time_and_multi_definitions() -> None:
    from deras._defs import partitions, periodic_partitions

    assert partitions.DailyPartitionsDefinition is periodic_partitions.DailyPartitionsDefinition
    assert partitions.MultiPartitionKey is MultiPartitionKey
    with pytest.raises(AttributeError):
        _ = partitions.NoSuchThing


def test_current_time_may_be_given_for_any_definition() -> None:
    now = datetime(2025, 1, 1, tzinfo=UTC)
    assert REGIONS.get_partition_keys(current_time=now) == ["eu", "us", "apac"]
    assert REGIONS.has_partition_key("eu", current_time=now)


@pytest.mark.parametrize(
    "partitions_def", [REGIONS, DynamicPartitionsDefinition(name="files"), BY_DATE_REGION], ids=repr
)
def test_definitions_survive_pickling(partitions_def: object) -> None:
    copy = pickle.loads(pickle.dumps(partitions_def))
    assert copy == partitions_def
    assert copy.index_space_id == partitions_def.index_space_id  # type: ignore[attr-defined]
