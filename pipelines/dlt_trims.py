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

_dlt_own: Callable[[Any], bool] | None = None  # dlt's own `is_secret_hint` while the trim is installed
_lock = threading.Lock()
KEEP = 4096  # hints answered at most (a process's configuration specs have a few hundred)


def install() -> None:
    """Install the trim in the dlt already imported (idempotent, thread-safe)."""
    global _dlt_own
    from dlt.common.configuration.specs import base_configuration

    with _lock:
        dlt_own = getattr(base_configuration, "is_secret_hint", None)
        if _dlt_own is not None or dlt_own is None:  # installed, or a dlt without it: the sync runs as dlt does
            return
        _replace(dlt_own, _answered_once(dlt_own))
        _dlt_own = dlt_own


def uninstall() -> None:
    """Put dlt's own `is_secret_hint` back (for the bench's comparison and the tests)."""
    global _dlt_own
    from dlt.common.configuration.specs import base_configuration

    with _lock:
        if _dlt_own is not None:
            _replace(base_configuration.is_secret_hint, _dlt_own)
            _dlt_own = None


def _replace(old: Callable[[Any], bool], new: Callable[[Any], bool]) -> None:
    """Bind `is_secret_hint` to `new` in every dlt module that bound it to `old` (`from ... import` copies the
    binding into each importing module; dlt's own recursion goes through its module's global)."""
    for mod_name, mod in list(sys.modules.items()):
        if mod is not None and (mod_name == "dlt" or mod_name.startswith("dlt.")):
            if getattr(mod, "__dict__", {}).get("is_secret_hint") is old:
                mod.is_secret_hint = new


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
