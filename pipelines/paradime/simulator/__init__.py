"""Local Paradime GraphQL API simulator (used by `whsync demo`, `whsync simulate paradime` and tests)."""
from .server import (
    ACCOUNT_TYPES,
    DEMO_API_KEY,
    DEMO_API_SECRET,
    DEMO_BEARER_TOKEN,
    SCHEMA_SDL,
    ParadimeSimulator,
    ParadimeWorkspace,
    generate_workspaces,
    load_fixture,
    user_uid,
)

__all__ = [
    "ACCOUNT_TYPES",
    "DEMO_API_KEY",
    "DEMO_API_SECRET",
    "DEMO_BEARER_TOKEN",
    "SCHEMA_SDL",
    "ParadimeSimulator",
    "ParadimeWorkspace",
    "generate_workspaces",
    "load_fixture",
    "user_uid",
]
