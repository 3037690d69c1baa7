"""Local Paradime GraphQL API simulator (used by `whsync demo`, `whsync simulate paradime` and tests).
Its exports are imported when first used (`simkit.lazy`)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from ...simkit.lazy import lazy_exports

if TYPE_CHECKING:
    from .server import (ACCOUNT_TYPES, DEMO_API_KEY, DEMO_API_SECRET, DEMO_BEARER_TOKEN,  # noqa: F401
                         SCHEMA_SDL, ParadimeSimulator, ParadimeWorkspace, generate_workspaces, load_fixture,
                         user_uid)

__all__, __getattr__ = lazy_exports(__name__, {
    ".server": "ACCOUNT_TYPES DEMO_API_KEY DEMO_API_SECRET DEMO_BEARER_TOKEN SCHEMA_SDL ParadimeSimulator "
               "ParadimeWorkspace generate_workspaces load_fixture user_uid",
})
