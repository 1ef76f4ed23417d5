"""The parts of the read model (``deras._instance.views``) that the web reads by name.

Every view the design names is imported here when used; one that this version of deras does
not have yet answers 501 naming it, instead of failing with a traceback.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from fastapi import HTTPException


def read_model(name: str) -> ModuleType:
    """``deras._instance.views.<name>``, or a 501 saying that view does not exist yet."""
    try:
        return importlib.import_module(f"deras._instance.views.{name}")
    except ModuleNotFoundError as missing:
        if missing.name != f"deras._instance.views.{name}":
            raise
        raise HTTPException(
            501, f"this deras has no read model of {name} yet (deras._instance.views.{name})"
        ) from None
