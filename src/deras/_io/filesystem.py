"""``FilesystemIOManager``: the pickle IO manager, configurable like a resource."""

from __future__ import annotations

from typing import Any, ClassVar

from .._defs.io_manager import InputContext, IOManager, OutputContext
from .._defs.resource import ConfigurableResource
from .pickle_files import PickleFileIOManager


class FilesystemIOManager(ConfigurableResource, IOManager):
    """Pickle values to files under ``base_dir``.

    >>> FilesystemIOManager(base_dir="/tmp/deras-storage").base_dir
    '/tmp/deras-storage'
    """

    base_dir: str
    _deras_exact_roundtrip: ClassVar[bool] = True

    def _files(self) -> PickleFileIOManager:
        return PickleFileIOManager(self.base_dir)

    def handle_output(self, context: OutputContext, obj: Any) -> None:
        self._files().handle_output(context, obj)

    def load_input(self, context: InputContext) -> Any:
        return self._files().load_input(context)
