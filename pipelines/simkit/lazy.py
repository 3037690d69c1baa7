"""A simulator package's exports, imported when first used (PEP 562 module `__getattr__`): `whsync` registers
every simulator's `simulate` command at start-up, and a command that never starts a simulator (every command
but `demo` and `simulate`) should not pay for importing the servers (Paradime's pulls in graphql-core).

    __all__, __getattr__ = lazy_exports(__name__, {".server": "ParadimeSimulator generate_workspaces", ...})
"""
from __future__ import annotations

import importlib
import sys
from typing import Any, Callable


def lazy_exports(package: str, modules: dict[str, str]) -> tuple[list[str], Callable[[str], Any]]:
    """The package's `__all__` and `__getattr__`, from {submodule: "the names it exports, space-separated"}."""
    exports = {name: module for module, names in modules.items() for name in names.split()}

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, package), name)
        setattr(sys.modules[package], name, value)  # the next lookup finds it without this function
        return value
    return sorted(exports), __getattr__
