"""A simulator package's exports, imported when first used (PEP 562 module `__getattr__`): `whsync` registers
every simulator's `simulate` command at start-up, and a command that never starts a simulator (every command
but `demo` and `simulate`) should not pay for importing the servers (Paradime's pulls in graphql-core).

    __getattr__ = lazy_exports(__name__, {"ParadimeSimulator": ".server", ...})
"""
from __future__ import annotations

import importlib
import sys
from typing import Any, Callable


def lazy_exports(package: str, exports: dict[str, str]) -> Callable[[str], Any]:
    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, package), name)
        setattr(sys.modules[package], name, value)  # the next lookup finds it without this function
        return value
    return __getattr__
