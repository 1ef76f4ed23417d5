"""``Param``: a DAG's run-time parameter, validated with JSON Schema before the run starts.

A DAG declares ``params={"n": Param(5, type="integer", minimum=1), "label": "x"}``; a run's conf
may override them. :func:`resolve_params` merges the two and checks every value at once, so a
bad trigger is refused with one message that lists every problem, before any task runs.

>>> resolve_params({"n": Param(5, type="integer", minimum=1)}, {"n": 7})
{'n': 7}
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from .._core.errors import ConfigError

if TYPE_CHECKING:  # jsonschema costs ~100 ms to import: loaded only when a Param has a schema
    from jsonschema.exceptions import ValidationError
    from jsonschema.protocols import Validator

__all__ = ["NOTSET", "Param", "ParamValidationError", "resolve_params", "validate_params_definition"]


class _NotSet:
    """The type of :data:`NOTSET`: "no value given", distinct from ``None`` (a valid JSON value)."""

    _instance: _NotSet | None = None

    def __new__(cls) -> _NotSet:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NOTSET"

    def __bool__(self) -> bool:
        return False

    def __reduce__(self) -> str:  # pickles (multiprocess executors) as the same singleton
        return "NOTSET"


NOTSET: Final = _NotSet()

JSON_TYPES: Final = ("array", "boolean", "integer", "null", "number", "object", "string")

# Python habits mapped to the JSON Schema names, for the "did you mean" of a bad ``type=``.
_PYTHON_TYPE_NAMES: Final = {
    "int": "integer",
    "float": "number",
    "str": "string",
    "bool": "boolean",
    "list": "array",
    "tuple": "array",
    "dict": "object",
    "None": "null",
    "NoneType": "null",
}

# Keywords of JSON Schema 2020-12 (and the older ``definitions``/``dependencies``) plus the
# annotations Airflow's trigger form reads, so DAGs written for Airflow define cleanly. Anything
# else is most likely a typo (``minimun=1``) that JSON Schema would silently ignore.
_KNOWN_KEYWORDS: Final = frozenset(
    {
        "type", "enum", "const", "multipleOf", "maximum", "exclusiveMaximum", "minimum",
        "exclusiveMinimum", "maxLength", "minLength", "pattern", "maxItems", "minItems",
        "uniqueItems", "maxContains", "minContains", "maxProperties", "minProperties", "required",
        "dependentRequired", "allOf", "anyOf", "oneOf", "not", "if", "then", "else",
        "dependentSchemas", "prefixItems", "items", "contains", "properties", "patternProperties",
        "additionalProperties", "propertyNames", "unevaluatedItems", "unevaluatedProperties",
        "format", "contentEncoding", "contentMediaType", "contentSchema", "title", "examples",
        "deprecated", "readOnly", "writeOnly", "$comment", "$defs", "$ref", "$id", "$schema",
        "$anchor", "$dynamicRef", "$dynamicAnchor", "definitions", "dependencies",
        "values_display", "section", "description_md", "custom_html_form",
    }
)  # fmt: skip


class ParamValidationError(ConfigError):
    """Param values (or definitions) that do not satisfy their schema.

    ``problems`` lists every problem found, so one message shows them all; ``where`` names the
    owner ("DAG 'etl'").

    >>> str(ParamValidationError(["param 'n': 0 is less than the minimum of 1"], where="DAG 'etl'"))
    "DAG 'etl': param 'n': 0 is less than the minimum of 1"
    """

    def __init__(self, problems: list[str] | str, *, where: str = "") -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        self.where = where
        prefix = f"{where}: " if where else ""
        if len(self.problems) == 1:
            msg = prefix + self.problems[0]
        else:
            msg = f"{prefix}{len(self.problems)} problems with the params:\n" + "\n".join(
                f"  {i}. {p}" for i, p in enumerate(self.problems, 1)
            )
        super().__init__(msg)


class Param:
    """A run-time parameter: a default value and the JSON Schema its values must satisfy.

    The keywords are JSON Schema's (as in Airflow): ``type`` is one of "string", "integer",
    "number", "boolean", "array", "object", "null" or a list of them; any other JSON Schema
    keyword (``items=``, ``properties=``, ``multipleOf=``...) goes through ``**schema``. JSON
    Schema's rules apply: ``True`` is not an "integer" and ``1`` is not a "boolean", but ``1`` is
    a "number". A Param without a default must be set by the run's conf.

    >>> Param(5, type="integer", minimum=1).resolve(3)
    3
    >>> Param(5, type="integer", minimum=1).resolve(0, name="n")
    Traceback (most recent call last):
    ...
    deras._defs.params.ParamValidationError: param 'n': 0 is less than the minimum of 1
    """

    __slots__ = ("_schema", "_validator", "default", "description")

    def __init__(
        self,
        default: Any = NOTSET,
        description: str | None = None,
        *,
        type: str | list[str] | None = None,
        minimum: float | None = None,
        maximum: float | None = None,
        exclusiveMinimum: float | None = None,
        exclusiveMaximum: float | None = None,
        minLength: int | None = None,
        maxLength: int | None = None,
        enum: list[Any] | None = None,
        pattern: str | None = None,
        format: str | None = None,
        **schema: Any,
    ) -> None:
        named = {
            "type": type,
            "minimum": minimum,
            "maximum": maximum,
            "exclusiveMinimum": exclusiveMinimum,
            "exclusiveMaximum": exclusiveMaximum,
            "minLength": minLength,
            "maxLength": maxLength,
            "enum": enum,
            "pattern": pattern,
            "format": format,
        }
        full = {k: v for k, v in named.items() if v is not None} | schema
        # JSON Schema wants arrays; a Python tuple here is a habit, not a different meaning.
        for key in ("type", "enum"):
            if isinstance(full.get(key), tuple):
                full[key] = list(full[key])
        self.default = default
        self.description = description
        self._schema: dict[str, Any] = full
        self._validator: Validator | None = None

    @property
    def schema(self) -> dict[str, Any]:
        """The JSON Schema (a copy), e.g. ``{"type": "integer", "minimum": 1}``."""
        return dict(self._schema)

    @property
    def has_default(self) -> bool:
        return self.default is not NOTSET

    def resolve(self, value: Any = NOTSET, *, name: str = "") -> Any:
        """The validated value: ``value``, or the default when no value is given.

        ``name`` is used in error messages ("param 'n': ...").

        >>> Param("a", type="string").resolve()
        'a'
        """
        label = f"param {name!r}" if name else "param"
        if value is NOTSET:
            if self.default is NOTSET:
                raise ParamValidationError(
                    f"{label} is required: it has no default and no value was given. "
                    f"Fix: set it in the run's conf, or give the Param a default."
                )
            value = _fresh(self.default)
        problems = self.problems_with(value, name=name)
        if problems:
            raise ParamValidationError(problems)
        return value

    def problems_with(self, value: Any, *, name: str = "") -> list[str]:
        """Every way ``value`` fails the schema, one message each (empty when it is valid).

        >>> Param(type="string", minLength=2).problems_with("A", name="s")
        ["param 's': 'A' is shorter than the minimum length of 2"]
        """
        label = f"param {name!r}" if name else "param"
        return [f"{label}{path}: {text}" for path, text in self._errors(value)]

    def _errors(self, value: Any) -> list[tuple[str, str]]:
        """(path inside the value, description) of each schema violation."""
        if not self._schema:
            return []  # a plain default: no schema, nothing to check (and no jsonschema import)
        return [(_path(err), _describe(err)) for err in self._get_validator().iter_errors(value)]

    def definition_problems(self, *, name: str = "") -> list[str]:
        """Problems in the Param itself: unknown keywords, bad type names, an invalid schema, or a
        default that does not satisfy the schema.

        >>> Param(0, type="integer", minimum=1).definition_problems(name="n")
        ["param 'n': the default does not satisfy the schema: 0 is less than the minimum of 1"]
        """
        label = f"param {name!r}" if name else "param"
        problems = [f"{label}: {p}" for p in _keyword_problems(self._schema)]
        if problems:
            return problems  # the schema checks below would only repeat these less clearly
        if self._schema:
            from jsonschema.validators import validator_for

            meta = validator_for(self._schema)
            # The meta-schema's own validator checks keyword values (``minimum="1"``, a bad regex).
            meta_validator = meta(meta.META_SCHEMA, format_checker=meta.FORMAT_CHECKER)
            for err in meta_validator.iter_errors(self._schema):
                keyword = err.absolute_path[0] if err.absolute_path else None
                where = f"{keyword}={self._schema[keyword]!r}" if keyword in self._schema else "the schema"
                problems.append(f"{label}: invalid {where}: {err.message}")
        if problems or self.default is NOTSET:
            return problems
        return [
            f"{label}{path}: the default does not satisfy the schema: {text}"
            for path, text in self._errors(self.default)
        ]

    def _get_validator(self) -> Validator:
        # Built once per Param: compiling the schema costs more than validating a value.
        if self._validator is None:
            from jsonschema import FormatChecker
            from jsonschema.validators import validator_for

            cls = validator_for(self._schema)
            # Like Airflow, "format" is checked (e.g. "date"), not only annotated.
            self._validator = cls(self._schema, format_checker=FormatChecker())
        return self._validator

    def __getstate__(self) -> tuple[Any, str | None, dict[str, Any]]:
        # The cached validator does not pickle (multiprocess executors pickle DAGs): rebuild it.
        return (self.default, self.description, self._schema)

    def __setstate__(self, state: tuple[Any, str | None, dict[str, Any]]) -> None:
        self.default, self.description, self._schema = state
        self._validator = None

    def __repr__(self) -> str:
        parts = [] if self.default is NOTSET else [repr(self.default)]
        if self.description is not None:
            parts.append(f"description={self.description!r}")
        parts += [f"{k}={v!r}" for k, v in self._schema.items()]
        return f"Param({', '.join(parts)})"


def resolve_params(
    params: Mapping[str, Any], conf: Mapping[str, Any] | None, *, where: str = ""
) -> dict[str, Any]:
    """The run's param values: each declared param's conf value (else its default), validated.

    ``params`` values are :class:`Param` or plain defaults (a plain value is a Param with that
    default and no schema: any value passes). Every problem is collected and raised together as
    one :class:`ParamValidationError` naming ``where``. Conf keys that are not declared params are
    kept, after the declared ones, as Airflow does (``params.update(conf)``): a DAG may read
    ``params.extra`` that only some triggers pass.

    >>> resolve_params({"n": Param(5, type="integer"), "label": "x"}, {"n": 2, "extra": True})
    {'n': 2, 'label': 'x', 'extra': True}
    >>> resolve_params({"n": Param(5, type="integer", minimum=1)}, {"n": 0}, where="DAG 'etl'")
    Traceback (most recent call last):
    ...
    deras._defs.params.ParamValidationError: DAG 'etl': param 'n': 0 is less than the minimum of 1
    """
    if conf is None:
        conf = {}
    elif not isinstance(conf, Mapping):
        raise ParamValidationError(
            f"the run's conf must be a JSON object (a dict), got {type(conf).__name__}: {_show(conf)}",
            where=where,
        )
    resolved: dict[str, Any] = {}
    problems: list[str] = []
    for name, spec in params.items():
        param = spec if isinstance(spec, Param) else Param(spec)
        try:
            resolved[name] = param.resolve(conf.get(name, NOTSET), name=name)
        except ParamValidationError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ParamValidationError(problems, where=where)
    for name, value in conf.items():
        if name not in resolved:
            resolved[name] = value
    return resolved


def validate_params_definition(
    params: Mapping[str, Any], where: str, *, require_defaults: bool = False
) -> list[str]:
    """Problems in a params definition, each prefixed with ``where`` (empty when it is valid).

    Checks each Param's keywords, type names and schema, and that its default satisfies its own
    schema. ``require_defaults=True`` (a scheduled DAG: scheduled runs pass no conf) also reports
    Params without a default.

    >>> validate_params_definition({"n": Param(5, type="int")}, "DAG 'etl'")
    ["DAG 'etl': param 'n': type='int' is not a JSON Schema type. Did you mean type='integer'?"]
    """
    prefix = f"{where}: " if where else ""
    problems: list[str] = []
    for name, spec in params.items():
        if not isinstance(name, str):
            problems.append(f"{prefix}param names must be strings, got {name!r}")
            continue
        if not isinstance(spec, Param):
            continue  # a plain default: any value is valid
        problems += [prefix + p for p in spec.definition_problems(name=name)]
        if require_defaults and not spec.has_default:
            problems.append(
                f"{prefix}param {name!r} has no default, but scheduled runs pass no conf. "
                f"Fix: give it a default (use type=[..., 'null'] and default None for an optional value)."
            )
    return problems


def _keyword_problems(schema: Mapping[str, Any]) -> list[str]:
    """Typos and type names: checked by hand so the message can suggest the fix."""
    problems = []
    for keyword in schema:
        if keyword not in _KNOWN_KEYWORDS:
            close = difflib.get_close_matches(keyword, _KNOWN_KEYWORDS, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            problems.append(f"unknown JSON Schema keyword {keyword!r}.{hint}")
    if "type" in schema:
        declared = schema["type"]
        names = declared if isinstance(declared, list) else [declared]
        for type_name in names:
            if isinstance(type_name, str) and type_name in JSON_TYPES:
                continue
            # type=int (the class) or type="int" (its name): both are Python habits.
            spelled = getattr(type_name, "__name__", type_name)
            shown = spelled if type_name is not spelled else repr(type_name)
            suggestion = None
            if isinstance(spelled, str):
                close = difflib.get_close_matches(spelled, JSON_TYPES, n=1)
                suggestion = _PYTHON_TYPE_NAMES.get(spelled) or (close[0] if close else None)
            if isinstance(declared, list):
                head = f"type={declared!r}: {shown} is not a JSON Schema type."
                hint = f" Did you mean {suggestion!r}?" if suggestion else ""
            else:
                head = f"type={shown} is not a JSON Schema type."
                hint = f" Did you mean type={suggestion!r}?" if suggestion else ""
            if not suggestion:
                hint = f" Use one of {', '.join(map(repr, JSON_TYPES))}."
            problems.append(head + hint)
    return problems


def _fresh(default: Any) -> Any:
    # Each run gets its own copy of a mutable default, so a task that appends to it cannot
    # change what the next run (in the same process, e.g. dag.test in a loop) sees.
    return copy.deepcopy(default) if isinstance(default, (list, dict, set)) else default


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _path(err: ValidationError) -> str:
    return "".join(f"[{p!r}]" for p in err.absolute_path)


def _types(declared: str | list[str]) -> str:
    if isinstance(declared, str):
        return repr(declared)
    names = [repr(t) for t in declared]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def _describe(err: ValidationError) -> str:
    """The error in deras's words: stable across jsonschema versions, saying what was expected."""
    value, expected = _show(err.instance), err.validator_value
    describe = {
        "type": lambda: f"{value} is not of type {_types(expected)}",
        "minimum": lambda: f"{value} is less than the minimum of {expected!r}",
        "maximum": lambda: f"{value} is greater than the maximum of {expected!r}",
        "exclusiveMinimum": lambda: f"{value} is not greater than the exclusive minimum of {expected!r}",
        "exclusiveMaximum": lambda: f"{value} is not less than the exclusive maximum of {expected!r}",
        "minLength": lambda: f"{value} is shorter than the minimum length of {expected!r}",
        "maxLength": lambda: f"{value} is longer than the maximum length of {expected!r}",
        "enum": lambda: f"{value} is not one of {_show(expected)}",
        "const": lambda: f"{value} is not {_show(expected)}",
        "pattern": lambda: f"{value} does not match the pattern {expected!r}",
        "format": lambda: f"{value} is not a valid {expected!r}",
        "multipleOf": lambda: f"{value} is not a multiple of {expected!r}",
        "minItems": lambda: f"{value} has fewer than the minimum of {expected!r} items",
        "maxItems": lambda: f"{value} has more than the maximum of {expected!r} items",
        "uniqueItems": lambda: f"{value} has duplicate items",
    }.get(str(err.validator))
    return describe() if describe else err.message
