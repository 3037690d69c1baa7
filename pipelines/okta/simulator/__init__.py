"""Local Okta management API simulator (used by `whsync demo`, `whsync simulate okta` and tests).
Its exports are imported when first used (`simkit.lazy`)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from ...simkit.lazy import lazy_exports

if TYPE_CHECKING:
    from .directory import DEMO_API_TOKEN, STATUSES, generate_directory, load_fixture  # noqa: F401
    from .demo import demo_directory  # noqa: F401
    from .server import OktaSimulator  # noqa: F401

_EXPORTS = {
    "DEMO_API_TOKEN": ".directory",
    "STATUSES": ".directory",
    "generate_directory": ".directory",
    "load_fixture": ".directory",
    "demo_directory": ".demo",
    "OktaSimulator": ".server",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
