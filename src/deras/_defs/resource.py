"""``ConfigurableResource``: typed, validated configuration for external systems.

This module imports pydantic, so ``deras/__init__`` exposes it lazily.
"""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, ConfigDict, PrivateAttr, ValidationError

from .._core.errors import ConfigError
from .env_var import EnvVar
from .io_manager import IOManager


class ConfigurableResource(BaseModel):
    """Subclass and add fields; instances go into ``Definitions(resources={...})``.

    Fields may hold ``EnvVar("NAME")``: the value is read when a run starts.

    >>> class Api(ConfigurableResource):
    ...     base_url: str
    ...     token: str
    >>> Api(base_url="https://x", token=EnvVar("API_TOKEN")).base_url
    'https://x'
    """

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)
    _secret_fields: frozenset[str] = PrivateAttr(default=frozenset())
    _env_fields: dict[str, EnvVar] = PrivateAttr(default_factory=dict)

    def __init__(self, **data: Any) -> None:
        # pydantic turns an EnvVar into a plain str while validating: remember which fields were.
        env_fields = {k: v for k, v in data.items() if isinstance(v, EnvVar)}
        try:
            super().__init__(**data)
        except ValidationError as err:
            lines = [
                f"field '{'.'.join(str(p) for p in e['loc'])}': {e['msg']} (got {e.get('input')!r})"
                for e in err.errors()
            ]
            raise ConfigError(f"{type(self).__name__}: " + "; ".join(lines)) from None
        self._env_fields = env_fields

    def resolve(self, secrets: set[str]) -> Self:
        """A copy whose ``EnvVar`` fields hold their values; the values join ``secrets``."""
        updates: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            env = self._env_fields.get(name)
            if env is not None:
                updates[name] = env.get_value()
                secrets.add(updates[name])
            elif isinstance(value, ConfigurableResource):
                updates[name] = value.resolve(secrets)
        if not updates:
            return self
        copy = self.model_copy(update=updates)
        copy._secret_fields = frozenset(k for k, v in updates.items() if isinstance(v, str))
        return copy

    def __repr_args__(self) -> Any:
        for name, value in super().__repr_args__():
            if name in self._secret_fields:
                yield name, "*****"
            elif name in self._env_fields:
                yield name, self._env_fields[name]
            else:
                yield name, value

    def setup_for_execution(self, context: Any) -> None:
        """Called once per run before the first node that uses this resource."""

    def teardown_after_execution(self, context: Any) -> None:
        """Called once per run after the last node, even when the run failed."""


class ConfigurableIOManager(ConfigurableResource, IOManager):
    """An IO manager configured like a resource: implement ``handle_output``/``load_input``."""

    def handle_output(self, context: Any, obj: Any) -> None:
        raise NotImplementedError

    def load_input(self, context: Any) -> Any:
        raise NotImplementedError
