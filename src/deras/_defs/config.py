"""``dg.Config``: the typed ``config`` parameter of ops and assets.

This module imports pydantic, so ``deras/__init__`` exposes it lazily; code that only needs to
know whether an annotation is a Config class reads the ``_deras_config`` marker instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from .._core.errors import ConfigError


class Config(BaseModel):
    """Subclass and add fields; a function parameter ``config: MyConfig`` receives the run's values.

    Values come from the run config (``dg.RunConfig(ops={"name": MyConfig(...)})`` or
    ``{"ops": {"name": {"config": {...}}}}``) and are checked before the run starts: a missing
    field, a wrong type or an unknown field is a ``dg.ConfigError`` naming the op and the field.

    >>> import deras as dg
    >>> class Rows(dg.Config):
    ...     limit: int = 10
    >>> @dg.asset
    ... def sample(config: Rows) -> list[int]:
    ...     return list(range(config.limit))
    >>> dg.materialize([sample], run_config=dg.RunConfig(ops={"sample": Rows(limit=2)})).asset_value("sample")
    [0, 1]
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    _deras_config: ClassVar[bool] = True

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as err:
            lines = [
                f"field '{'.'.join(str(p) for p in e['loc'])}': {e['msg']} (got {e.get('input')!r})"
                for e in err.errors()
            ]
            problem = ConfigError(f"{type(self).__name__}: " + "; ".join(lines))
            problem.validation_errors = err.errors()  # run config checks word them per field
            raise problem from None


def schema_from(config_schema: Any, where: str) -> type[Config] | None:
    """A Config class from ``config_schema=``: a Config class, or a dict of field -> type."""
    if config_schema is None:
        return None
    if isinstance(config_schema, type) and issubclass(config_schema, BaseModel):
        return config_schema  # type: ignore[return-value]
    if isinstance(config_schema, Mapping):
        fields: dict[str, Any] = {}
        for name, kind in config_schema.items():
            if not isinstance(name, str):
                raise ConfigError(f"{where}: config_schema keys are field names, not {name!r}")
            fields[name] = (kind, ...)
        model: type[Config] = create_model(f"{where}_config".replace(" ", "_"), __base__=Config, **fields)
        return model
    raise ConfigError(
        f"{where}: config_schema={config_schema!r} is not a schema: give a dg.Config subclass "
        "or a dict of field name -> type"
    )
