"""Local Benchling API v2 simulator (see README.md in this folder).
Its exports are imported when first used (`simkit.lazy`)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from ...simkit.lazy import lazy_exports

if TYPE_CHECKING:
    from .credentials import DEMO_API_KEY, DEMO_CLIENT_ID  # noqa: F401
    from .server import BenchlingSimulator, Request, Response  # noqa: F401
    from .generate import generate_tenant  # noqa: F401
    from .tenant import Tenant, TenantError  # noqa: F401

__all__, __getattr__ = lazy_exports(__name__, {
    ".credentials": "DEMO_API_KEY DEMO_CLIENT_ID",
    ".server": "BenchlingSimulator Request Response",
    ".generate": "generate_tenant",
    ".tenant": "Tenant TenantError",
})
