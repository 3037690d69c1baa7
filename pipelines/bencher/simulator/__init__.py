"""Local Bencher REST API simulator (used by `whsync demo`, `whsync simulate bencher` and tests).
Its exports are imported when first used (`simkit.lazy`)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from ...simkit.lazy import lazy_exports

if TYPE_CHECKING:
    from .server import DEMO_TOKEN, ROLES, BencherSimulator, generate_fixture, load_fixture, rfc3339  # noqa: F401

__all__, __getattr__ = lazy_exports(__name__, {
    ".server": "DEMO_TOKEN ROLES BencherSimulator generate_fixture load_fixture rfc3339",
})
