"""Code servers: each code location's definitions load in a process of their own.

The web server asks them for snapshots (plain data) and to queue launches; it never imports
user code, and a location that does not load is shown, not fatal.
"""

from .client import CodeLocation, CodeLocations, CodeServerError
from .request import LaunchRejected, LaunchRequest, LaunchResult

__all__ = [
    "CodeLocation",
    "CodeLocations",
    "CodeServerError",
    "LaunchRejected",
    "LaunchRequest",
    "LaunchResult",
]
