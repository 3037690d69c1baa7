"""CPU that dlt spends on every pipeline run for nobody, trimmed while `extract` (pipelines/sync.py) runs one.

dlt resolves its configuration (the destination's, the pipeline's, the loader's, ...) again each time it makes a
job client or asks for the destination's capabilities: about twenty times per pipeline run. For each field of
each configuration, and for each provider it asks (environment, secrets.toml, config.toml), it first works out
from the field's type hint whether the value is a secret and what type is inside Optional/Annotated/NewType:
pure functions of the hint, and about a third of the time dlt spends resolving configuration.

1. `_hints_read_once`: during the call, `is_secret_hint` and `extract_inner_hint` (as resolve.py and the
   environment provider call them) answer each hint object once and then from what they answered: keyed by
   the hint object itself (held, so that its id is not reused), so two hints that are merely equal (such as
   `Union[int, None]` and `Union[None, int]`) are never mixed up. The values are still looked up in every
   provider each time, so a changed environment variable or secrets file reads as before.

Measured by `python -m bench --scenarios 10` (bench/dbt_trims.py): resyncs with every trim and without dlt's.
"""
from __future__ import annotations

import contextlib
import functools
import threading
from typing import Any, Callable, Iterator


@contextlib.contextmanager
def trimmed() -> Iterator[None]:
    """Every trim of this module, for the duration of one pipeline run."""
    with _hints_read_once():
        yield


def _answered_once(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`fn(hint, *args, **kwargs)` answered once per hint object and arguments."""
    answers: dict[tuple, tuple[Any, Any]] = {}

    @functools.wraps(fn)
    def once(hint: Any, *args: Any, **kwargs: Any) -> Any:
        key = (id(hint), args, tuple(kwargs.items()))
        found = answers.get(key)
        if found is not None and found[0] is hint:
            return found[1]
        answer = fn(hint, *args, **kwargs)
        answers[key] = (hint, answer)
        return answer

    return once


_lock = threading.Lock()
_users = 0  # pipeline runs inside `_hints_read_once` (syncs of two targets may run at once in one process)


@contextlib.contextmanager
def _hints_read_once() -> Iterator[None]:
    """Installed by the first run that enters and taken out by the last that leaves; dlt's own functions
    are back when no run is inside."""
    global _users
    from dlt.common.configuration import resolve
    from dlt.common.configuration.providers import environ
    from dlt.common.configuration.specs import base_configuration as base

    places = [(resolve, "is_secret_hint", base.is_secret_hint),
              (resolve, "extract_inner_hint", base.extract_inner_hint),
              (environ, "is_secret_hint", base.is_secret_hint)]
    with _lock:
        if _users == 0:
            answered = {fn: _answered_once(fn) for _m, _n, fn in places}
            for module, name, fn in places:
                setattr(module, name, answered[fn])
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0:
                for module, name, fn in places:
                    setattr(module, name, fn)
