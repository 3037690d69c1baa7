"""Local Okta management API simulator (used by `whsync demo`, `whsync simulate okta` and tests).
Its exports are imported when first used (`simkit.lazy`)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from ...simkit.lazy import lazy_exports

if TYPE_CHECKING:
    from .directory import DEMO_API_TOKEN, STATUSES, generate_directory, load_fixture  # noqa: F401
    from .demo import demo_directory  # noqa: F401
    from .server import OktaSimulator  # noqa: F401

__all__, __getattr__ = lazy_exports(__name__, {
    ".directory": "DEMO_API_TOKEN STATUSES generate_directory load_fixture",
    ".demo": "demo_directory",
    ".server": "OktaSimulator",
})
