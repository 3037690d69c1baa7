"""One executor per API: the live re-check (in as few requests as the API allows) and the writes.

Live states use one vocabulary: `{"status": "active"|"suspended"}` for a Benchling user,
`{"status": "member"|"removed", "role"}` for a Benchling team membership or a Bencher member,
`{"status": "active"|"removed", "role"}` for a Paradime user (a disabled user is not listed).
"""
from .bencher import BencherExecutor, jwt_subject
from .benchling import BenchlingExecutor
from .common import CHUNK, Result, SystemRefused, matches
from .paradime import PARADIME_ADMIN_TYPES, ParadimeExecutor

__all__ = ["BencherExecutor", "BenchlingExecutor", "CHUNK", "PARADIME_ADMIN_TYPES", "ParadimeExecutor", "Result",
           "SystemRefused", "jwt_subject", "matches"]
