"""The trim applied while a sync's dlt pipeline runs (pipelines/dlt_trims.py) changes nothing dlt does: the
hint answers are dlt's own for every field of the configurations a sync resolves, two equal but different
hints are answered each for itself, a changed environment variable still reads, and dlt's functions are back
once no run is inside."""
from __future__ import annotations

import threading
import typing
from typing import Optional, Union

from dlt.common.configuration import resolve, resolve_configuration
from dlt.common.configuration.providers import environ
from dlt.common.configuration.specs import base_configuration as base
from dlt.common.configuration.specs import known_sections
from dlt.destinations.impl.duckdb.configuration import DuckDbClientConfiguration
from dlt.destinations.impl.postgres.configuration import PostgresClientConfiguration

from pipelines import dlt_trims


def _hints() -> list:
    hints = []
    for spec in (DuckDbClientConfiguration, PostgresClientConfiguration):
        for cls in (spec, typing.get_type_hints(spec)["credentials"]):
            hints += list(cls.get_resolvable_fields().values())
    return hints + [Optional[int], Union[None, int], typing.Annotated[str, "x"], typing.Literal["a", "b"]]


def test_the_hints_are_answered_as_dlt_answers_them():
    hints = _hints()
    theirs = [(base.is_secret_hint(h), base.extract_inner_hint(h), base.extract_inner_hint(h, preserve_literal=True))
              for h in hints]
    with dlt_trims.trimmed():
        assert resolve.is_secret_hint is not base.is_secret_hint  # the trim is in
        for _ in range(2):  # answered, then answered again from what was answered
            mine = [(environ.is_secret_hint(h), resolve.extract_inner_hint(h),
                     resolve.extract_inner_hint(h, preserve_literal=True)) for h in hints]
            assert mine == theirs
        assert any(secret for secret, *_ in mine) and not all(secret for secret, *_ in mine)
        # equal hints with their arguments in another order are each answered for themselves, as dlt does
        a, b = Union[int, None], Union[None, int]
        assert a == b and resolve.extract_inner_hint(a) is int
        assert resolve.extract_inner_hint(b) is base.extract_inner_hint(b)
    assert (resolve.is_secret_hint, resolve.extract_inner_hint, environ.is_secret_hint) == \
        (base.is_secret_hint, base.extract_inner_hint, base.is_secret_hint)


def test_a_changed_environment_variable_still_reads(monkeypatch, tmp_path):
    with dlt_trims.trimmed():
        for path in ("one.duckdb", "two.duckdb"):
            monkeypatch.setenv("DESTINATION__DUCKDB__CREDENTIALS", str(tmp_path / path))
            config = resolve_configuration(DuckDbClientConfiguration()._bind_dataset_name(dataset_name="d"),
                                           sections=(known_sections.DESTINATION, "duckdb"))
            assert config.credentials.database == str(tmp_path / path)


def test_runs_in_two_threads_leave_dlts_own_functions_behind():
    inside, leave = threading.Barrier(2), threading.Event()

    def run() -> None:
        with dlt_trims.trimmed():
            inside.wait()
            leave.wait()

    first = threading.Thread(target=run)
    first.start()
    with dlt_trims.trimmed():
        inside.wait()
        leave.set()
        first.join()
        assert resolve.is_secret_hint is not base.is_secret_hint  # still in for the run still inside
    assert resolve.is_secret_hint is base.is_secret_hint and environ.is_secret_hint is base.is_secret_hint
