"""``EnvVar``: a configuration value read from the environment at run time, kept secret."""

from __future__ import annotations

import os

from .._core.errors import ConfigError


class EnvVar(str):
    """The name of an environment variable, read when the run starts.

    Its value never appears in events, logs, the UI or CLI output: deras redacts it.

    >>> EnvVar("DB_PASSWORD")
    EnvVar('DB_PASSWORD')
    """

    __slots__ = ()

    @property
    def env_var_name(self) -> str:
        return str.__str__(self)

    def get_value(self) -> str:
        value = os.environ.get(self.env_var_name)
        if value is None:
            raise ConfigError(
                f"environment variable {self.env_var_name} is not set. "
                f"Fix: export {self.env_var_name}=... before running."
            )
        return value

    def __repr__(self) -> str:
        return f"EnvVar({self.env_var_name!r})"
