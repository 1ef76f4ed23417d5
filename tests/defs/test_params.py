"""DAG params: JSON Schema validation of defaults and of a run's conf, with every problem named."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from typing import Any

import pytest

from deras._core.errors import ConfigError
from deras._defs.params import (
    NOTSET,
    Param,
    ParamValidationError,
    resolve_params,
    validate_params_definition,
)


def error_of(param: Param, value: Any = NOTSET, name: str = "n") -> str:
    with pytest.raises(ParamValidationError) as err:
        param.resolve(value, name=name)
    return str(err.value)


# --- resolve: defaults and values -------------------------------------------------------------


def test_resolve_returns_the_default_when_no_value_is_given() -> None:
    assert Param(5, type="integer").resolve() == 5


def test_resolve_returns_a_valid_value_over_the_default() -> None:
    assert Param(5, type="integer", minimum=1).resolve(7) == 7


def test_param_without_default_and_without_value_is_required() -> None:
    assert error_of(Param(type="integer")) == (
        "param 'n' is required: it has no default and no value was given. "
        "Fix: set it in the run's conf, or give the Param a default."
    )


def test_none_is_a_value_not_a_missing_one() -> None:
    """``None`` is JSON's null: valid where the type allows "null", never "use the default"."""
    assert Param(5, type=["integer", "null"]).resolve(None) is None
    assert error_of(Param(5, type="integer"), None) == "param 'n': None is not of type 'integer'"


def test_param_without_schema_accepts_any_value() -> None:
    marker = object()
    assert Param("x").resolve(marker) is marker


def test_each_resolve_gets_its_own_copy_of_a_mutable_default() -> None:
    param = Param([1, 2], type="array")
    first = param.resolve()
    first.append(3)
    assert param.resolve() == [1, 2]


def test_param_validation_error_is_a_config_error() -> None:
    assert issubclass(ParamValidationError, ConfigError)


# --- resolve: each type and keyword --------------------------------------------------------------


def test_integer_minimum_and_maximum() -> None:
    param = Param(5, type="integer", minimum=1, maximum=10)
    assert param.resolve(1) == 1 and param.resolve(10) == 10
    assert error_of(param, 0) == "param 'n': 0 is less than the minimum of 1"
    assert error_of(param, 11) == "param 'n': 11 is greater than the maximum of 10"


def test_exclusive_minimum_and_maximum() -> None:
    param = Param(5, type="number", exclusiveMinimum=0, exclusiveMaximum=1)
    assert param.resolve(0.5) == 0.5
    assert error_of(param, 0) == "param 'n': 0 is not greater than the exclusive minimum of 0"
    assert error_of(param, 1) == "param 'n': 1 is not less than the exclusive maximum of 1"


def test_integer_does_not_accept_true() -> None:
    assert error_of(Param(1, type="integer"), True) == "param 'n': True is not of type 'integer'"


def test_integer_does_not_accept_a_numeric_string() -> None:
    assert error_of(Param(1, type="integer"), "5") == "param 'n': '5' is not of type 'integer'"


def test_number_accepts_int_and_float_but_not_bool() -> None:
    param = Param(1.5, type="number")
    assert param.resolve(3) == 3 and param.resolve(2.5) == 2.5
    assert error_of(param, False) == "param 'n': False is not of type 'number'"


def test_boolean_does_not_accept_1() -> None:
    param = Param(True, type="boolean")
    assert param.resolve(False) is False
    assert error_of(param, 1) == "param 'n': 1 is not of type 'boolean'"


def test_string_length_and_pattern_report_every_failure() -> None:
    param = Param("abc", type="string", minLength=2, maxLength=4, pattern="^[a-z]+$")
    assert param.resolve("ok") == "ok"
    assert error_of(param, "abcde") == "param 'n': 'abcde' is longer than the maximum length of 4"
    assert error_of(param, "A") == (
        "2 problems with the params:\n"
        "  1. param 'n': 'A' is shorter than the minimum length of 2\n"
        "  2. param 'n': 'A' does not match the pattern '^[a-z]+$'"
    )


def test_enum() -> None:
    param = Param("daily", enum=["daily", "hourly"])
    assert param.resolve("hourly") == "hourly"
    assert error_of(param, "weekly") == "param 'n': 'weekly' is not one of ['daily', 'hourly']"


def test_enum_given_as_tuple_works_like_a_list() -> None:
    assert error_of(Param("a", enum=("a", "b")), "c") == "param 'n': 'c' is not one of ['a', 'b']"


def test_type_list_allows_each_listed_type() -> None:
    param = Param(None, type=["string", "null"])
    assert param.resolve("x") == "x" and param.resolve(None) is None
    assert error_of(param, 1) == "param 'n': 1 is not of type 'string' or 'null'"


def test_array_with_items_names_the_bad_item() -> None:
    param = Param([1], type="array", items={"type": "integer"})
    assert param.resolve([1, 2]) == [1, 2]
    assert error_of(param, [1, "x"]) == "param 'n'[1]: 'x' is not of type 'integer'"
    assert error_of(param, (1, 2)) == "param 'n': (1, 2) is not of type 'array'"


def test_object_with_properties_and_required_keys() -> None:
    param = Param({"a": 1}, type="object", properties={"a": {"type": "integer"}}, required=["a"])
    assert param.resolve({"a": 2, "b": "extra"}) == {"a": 2, "b": "extra"}
    assert error_of(param, {"a": "1"}) == "param 'n'['a']: '1' is not of type 'integer'"
    assert error_of(param, {}) == "param 'n': 'a' is a required property"
    assert error_of(param, [1]) == "param 'n': [1] is not of type 'object'"


def test_format_is_checked_not_only_annotated() -> None:
    param = Param("2025-01-01", type="string", format="date")
    assert param.resolve("2025-02-28") == "2025-02-28"
    assert error_of(param, "2025-13-01") == "param 'n': '2025-13-01' is not a valid 'date'"


def test_other_json_schema_keywords_pass_through_schema() -> None:
    param = Param(10, type="integer", multipleOf=5)
    assert param.schema == {"type": "integer", "multipleOf": 5}
    assert error_of(param, 7) == "param 'n': 7 is not a multiple of 5"


def test_long_values_are_shortened_in_messages() -> None:
    message = error_of(Param(1, type="integer"), "x" * 200)
    assert message == f"param 'n': '{'x' * 76}... is not of type 'integer'"


# --- resolve_params: a run's conf against the DAG's params ------------------------------------------


def test_defaults_fill_params_the_conf_does_not_set() -> None:
    params = {"n": Param(5, type="integer"), "label": "daily"}
    assert resolve_params(params, None) == {"n": 5, "label": "daily"}


def test_conf_overrides_defaults() -> None:
    params = {"n": Param(5, type="integer"), "label": "daily"}
    assert resolve_params(params, {"n": 9, "label": 3}) == {"n": 9, "label": 3}


def test_plain_defaults_accept_any_conf_value() -> None:
    assert resolve_params({"label": "daily"}, {"label": [1, 2]}) == {"label": [1, 2]}


def test_unknown_conf_keys_are_kept_after_the_declared_params() -> None:
    """As in Airflow, a trigger may pass values the DAG did not declare; templates see them."""
    resolved = resolve_params({"n": Param(5)}, {"extra": True, "n": 1})
    assert list(resolved.items()) == [("n", 1), ("extra", True)]


def test_all_problems_are_reported_together_naming_the_dag() -> None:
    params = {
        "n": Param(5, type="integer", minimum=1),
        "mode": Param("a", enum=["a", "b"]),
        "day": Param(type="string"),
        "ok": Param(1, type="integer"),
    }
    with pytest.raises(ParamValidationError) as err:
        resolve_params(params, {"n": 0, "mode": "c", "ok": 2}, where="DAG 'etl'")
    assert str(err.value) == (
        "DAG 'etl': 3 problems with the params:\n"
        "  1. param 'n': 0 is less than the minimum of 1\n"
        "  2. param 'mode': 'c' is not one of ['a', 'b']\n"
        "  3. param 'day' is required: it has no default and no value was given. "
        "Fix: set it in the run's conf, or give the Param a default."
    )
    assert err.value.where == "DAG 'etl'" and len(err.value.problems) == 3


def test_a_single_problem_is_one_line_naming_the_dag() -> None:
    with pytest.raises(ParamValidationError) as err:
        resolve_params({"n": Param(5, type="integer", minimum=1)}, {"n": 0}, where="DAG 'etl'")
    assert str(err.value) == "DAG 'etl': param 'n': 0 is less than the minimum of 1"


def test_conf_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(ParamValidationError) as err:
        resolve_params({"n": 1}, [1, 2], where="DAG 'etl'")  # type: ignore[arg-type]
    assert str(err.value) == "DAG 'etl': the run's conf must be a JSON object (a dict), got list: [1, 2]"


# --- validate_params_definition: problems found when the DAG is defined ----------------------------


def test_a_valid_definition_has_no_problems() -> None:
    params = {
        "n": Param(5, "how many", type="integer", minimum=1),
        "when": Param(None, type=["string", "null"], format="date"),
        "label": "plain default",
        "ui": Param(3, title="N", examples=[3], values_display={"3": "three"}, section="Main"),
    }
    assert validate_params_definition(params, "DAG 'etl'") == []


def test_a_default_that_fails_its_own_schema_is_a_definition_problem() -> None:
    params = {"n": Param(0, type="integer", minimum=1), "xs": Param([1, "a"], items={"type": "integer"})}
    assert validate_params_definition(params, "DAG 'etl'") == [
        "DAG 'etl': param 'n': the default does not satisfy the schema: 0 is less than the minimum of 1",
        "DAG 'etl': param 'xs'[1]: the default does not satisfy the schema: 'a' is not of type 'integer'",
    ]


def test_python_type_names_get_the_json_schema_name_suggested() -> None:
    params = {"a": Param(1, type="int"), "b": Param(1, type=int), "c": Param(None, type=["str", "null"])}
    assert validate_params_definition(params, "DAG 'etl'") == [
        "DAG 'etl': param 'a': type='int' is not a JSON Schema type. Did you mean type='integer'?",
        "DAG 'etl': param 'b': type=int is not a JSON Schema type. Did you mean type='integer'?",
        "DAG 'etl': param 'c': type=['str', 'null']: 'str' is not a JSON Schema type. Did you mean 'string'?",
    ]


def test_unknown_type_name_lists_the_json_schema_types() -> None:
    assert validate_params_definition({"n": Param(1, type="whole")}, "DAG 'etl'") == [
        "DAG 'etl': param 'n': type='whole' is not a JSON Schema type. Use one of "
        "'array', 'boolean', 'integer', 'null', 'number', 'object', 'string'."
    ]


def test_misspelled_keyword_is_a_problem_with_a_suggestion() -> None:
    """JSON Schema ignores unknown keywords, so ``minimun=1`` would silently check nothing."""
    assert validate_params_definition({"n": Param(1, minimun=1)}, "DAG 'etl'") == [
        "DAG 'etl': param 'n': unknown JSON Schema keyword 'minimun'. Did you mean 'minimum'?"
    ]


def test_invalid_keyword_values_are_problems() -> None:
    params = {"n": Param(1, minimum="1"), "s": Param("x", pattern="(")}
    assert validate_params_definition(params, "DAG 'etl'") == [
        "DAG 'etl': param 'n': invalid minimum='1': '1' is not of type 'number'",
        "DAG 'etl': param 's': invalid pattern='(': '(' is not a 'regex'",
    ]


def test_missing_default_is_a_problem_only_when_defaults_are_required() -> None:
    params = {"n": Param(type="integer")}
    assert validate_params_definition(params, "DAG 'etl'") == []
    assert validate_params_definition(params, "DAG 'etl'", require_defaults=True) == [
        "DAG 'etl': param 'n' has no default, but scheduled runs pass no conf. "
        "Fix: give it a default (use type=[..., 'null'] and default None for an optional value)."
    ]


def test_non_string_param_names_are_a_problem() -> None:
    assert validate_params_definition({1: 2}, "DAG 'etl'") == [  # type: ignore[dict-item]
        "DAG 'etl': param names must be strings, got 1"
    ]


# --- the Param object --------------------------------------------------------------------------------


def test_repr_shows_default_description_and_schema() -> None:
    assert repr(Param(5, "how many", type="integer", minimum=1)) == (
        "Param(5, description='how many', type='integer', minimum=1)"
    )
    assert repr(Param(type="string")) == "Param(type='string')"


def test_schema_holds_only_the_keywords_given() -> None:
    param = Param(5, type="integer", minimum=1)
    assert param.schema == {"type": "integer", "minimum": 1}
    assert param.has_default and not Param().has_default


def test_notset_survives_pickling_as_the_same_object() -> None:
    assert pickle.loads(pickle.dumps(NOTSET)) is NOTSET


def test_a_used_param_pickles_and_still_validates() -> None:
    """Multiprocess executors pickle DAGs; the validator cached by a first use must not block that."""
    param = Param(5, "how many", type="integer", minimum=1)
    param.resolve(3)
    copy = pickle.loads(pickle.dumps(param))
    assert repr(copy) == repr(param) and copy.resolve(4) == 4
    assert error_of(copy, 0) == "param 'n': 0 is less than the minimum of 1"
    assert pickle.loads(pickle.dumps(Param())).resolve(1) == 1


def test_importing_params_or_resolving_plain_defaults_does_not_load_jsonschema() -> None:
    code = (
        "import sys, json; from deras._defs.params import Param, resolve_params; "
        "resolve_params({'a': 1, 'b': Param(2)}, {'a': 3}); "
        "print(json.dumps('jsonschema' in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) is False
