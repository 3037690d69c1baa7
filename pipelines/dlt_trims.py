"""CPU that dlt spends on every sync for nobody, trimmed: installed once per process by `sync.extract`
(pipelines/sync.py) before its first dlt pipeline runs, and leaving what dlt does unchanged.

1. `is_secret_hint` answered once per type hint. dlt resolves a configuration (~300 per Benchling sync: the
   destination's client configuration alone ~60 times, once per load job) by asking each provider for each
   field, and both the resolver and the environment provider first ask whether the field's type hint is a
   secret: ~9,000 calls per sync, each one walking the hint with `typing`'s introspection (Annotated
   metadata, Optional, NewType, unions, a credentials class), about half of dlt's configuration CPU. The
   answer depends on the hint alone (equal hints have the same Annotated metadata, the same NewType and the
   same members), so it is kept per hint; a hint that cannot be hashed is asked of dlt every time.
2. A destination's capabilities worked out once per naming convention. dlt asks a destination for its
   capabilities ~50 times per pipeline run (the pipeline's init, each of extract, normalize and load, the load
   storage, every schema sync) and, asked without a configuration, each answer resolves a partial
   configuration of the destination from every provider first: ~4% of a resync's CPU. The answer depends on
   the destination (its factory's arguments), the naming convention and that configuration, which nothing
   changes while one destination runs one pipeline (whsync makes a destination per source and sync,
   `Build.destination`). So each destination keeps the first answer per naming convention (one for no naming
   and every naming that is not case-sensitive, which dlt's adjustment leaves alone) and every call gets its
   own copy of it (`BaseConfiguration.copy`, as the pipeline amends what it gets); a call with a configuration
   is answered by dlt as before.

Measured by `python -m bench --scenarios 10` (bench/dbt_trims.py, mode "dlt as it is").
"""
from __future__ import annotations

import sys
import threading
from typing import Any, Callable

_dlt_own: Callable[[Any], bool] | None = None  # dlt's own `is_secret_hint` while the trims are installed
_dlt_capabilities: Callable[..., Any] | None = None  # dlt's own `Destination.capabilities` while installed
_lock = threading.Lock()
KEEP = 4096  # hints answered at most (a process's configuration specs have a few hundred)


def install() -> None:
    """Install the trims in the dlt already imported (idempotent, thread-safe)."""
    global _dlt_own, _dlt_capabilities
    from dlt.common.configuration.specs import base_configuration
    from dlt.common.destination.reference import Destination

    with _lock:
        dlt_own = getattr(base_configuration, "is_secret_hint", None)
        if _dlt_own is None and dlt_own is not None:  # not yet installed (a dlt without it runs as dlt does)
            _replace(dlt_own, _answered_once(dlt_own))
            _dlt_own = dlt_own
        if _dlt_capabilities is None:
            _dlt_capabilities = Destination.__dict__["capabilities"]
            Destination.capabilities = _capabilities_kept(_dlt_capabilities)


def uninstall() -> None:
    """Put dlt's own `is_secret_hint` and `Destination.capabilities` back (for the bench's comparison and the
    tests)."""
    global _dlt_own, _dlt_capabilities
    from dlt.common.configuration.specs import base_configuration
    from dlt.common.destination.reference import Destination

    with _lock:
        if _dlt_own is not None:
            _replace(base_configuration.is_secret_hint, _dlt_own)
            _dlt_own = None
        if _dlt_capabilities is not None:
            Destination.capabilities = _dlt_capabilities
            _dlt_capabilities = None


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


def _capabilities_kept(dlt_own: Callable[..., Any]) -> Callable[..., Any]:
    """`Destination.capabilities` that keeps, on each destination, dlt's first answer without a configuration
    per naming convention (held with it, so that its id is not reused), and returns a copy of it."""
    from dlt.common.destination.reference import Destination

    dlts_adjustment = Destination.adjust_capabilities.__func__  # type: ignore[attr-defined]

    def capabilities(self: Any, config: Any = None, naming: Any = None) -> Any:
        if config is not None:
            return dlt_own(self, config, naming)
        kept = self.__dict__.setdefault("_whsync_capabilities", {})
        # dlt's own adjustment (DuckDB's and PostgreSQL's) changes the answer only for a case-sensitive naming
        # convention: no naming and every other naming get the same answer
        same = ((naming is None or not naming.is_case_sensitive)
                and type(self).adjust_capabilities.__func__ is dlts_adjustment)
        key = None if same else id(naming)
        hit = kept.get(key)
        if hit is None:
            hit = kept[key] = (naming, dlt_own(self, None, naming))
        return hit[1].copy()

    capabilities.__wrapped__ = dlt_own  # type: ignore[attr-defined]
    return capabilities
