"""CPU that dlt spends on every sync for nobody, trimmed: installed once per process by `sync.extract`
(pipelines/sync.py) before its first dlt pipeline runs, and leaving what dlt does unchanged.

1. `is_secret_hint` answered once per type hint. dlt resolves a configuration (~300 per Benchling sync: the
   destination's client configuration alone ~60 times, once per load job) by asking each provider for each
   field, and both the resolver and the environment provider first ask whether the field's type hint is a
   secret: ~9,000 calls per sync, each one walking the hint with `typing`'s introspection (Annotated
   metadata, Optional, NewType, unions, a credentials class), about half of dlt's configuration CPU. The
   answer depends on the hint alone (equal hints have the same Annotated metadata, the same NewType and the
   same members), so it is kept per hint; a hint that cannot be hashed is asked of dlt every time.

Measured by `python -m bench --scenarios 10` (bench/dbt_trims.py, mode "dlt as it is").
"""
from __future__ import annotations

import sys
import threading
from typing import Any, Callable

_installed: dict[str, Callable[..., Any]] = {}  # dlt's own function by name, once installed
_lock = threading.Lock()
KEEP = 4096  # hints answered at most (a process's configuration specs have a few hundred)


def install() -> None:
    """Install every trim of this module in the dlt already imported (idempotent, thread-safe)."""
    with _lock:
        if "is_secret_hint" in _installed:
            return
        from dlt.common.configuration.specs import base_configuration

        dlt_own = getattr(base_configuration, "is_secret_hint", None)
        if dlt_own is None:  # a dlt without it: nothing to trim, the sync runs as dlt does (test_dlt_trims notices)
            return
        _replace("is_secret_hint", dlt_own, _answered_once(dlt_own))
        _installed["is_secret_hint"] = dlt_own


def uninstall() -> None:
    """Put dlt's own functions back (for the bench's comparison and the tests)."""
    with _lock:
        for name, dlt_own in _installed.items():
            from dlt.common.configuration.specs import base_configuration

            _replace(name, getattr(base_configuration, name), dlt_own)
        _installed.clear()


def _replace(name: str, old: Callable[..., Any], new: Callable[..., Any]) -> None:
    """Bind `name` to `new` in every dlt module that bound it to `old` (`from ... import name` copies the
    binding into each importing module; dlt's own recursion goes through its module's global)."""
    for mod_name, mod in list(sys.modules.items()):
        if mod is not None and (mod_name == "dlt" or mod_name.startswith("dlt.")):
            if getattr(mod, "__dict__", {}).get(name) is old:
                setattr(mod, name, new)


def _answered_once(dlt_own: Callable[[Any], bool]) -> Callable[[Any], bool]:
    answers: dict[Any, bool] = {}

    def is_secret_hint(hint: Any) -> bool:
        try:
            return answers[hint]
        except KeyError:
            pass
        except TypeError:  # an unhashable hint
            return dlt_own(hint)
        answer = dlt_own(hint)
        if len(answers) >= KEEP:
            answers.clear()
        answers[hint] = answer
        return answer

    is_secret_hint.__wrapped__ = dlt_own  # type: ignore[attr-defined]
    return is_secret_hint
