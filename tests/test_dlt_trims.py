"""The trims a sync installs in dlt (pipelines/dlt_trims.py) change nothing dlt does.

- `is_secret_hint` answered once per hint: for secret values, credentials, their Optional, Annotated and
  NewType wrappings, unions and plain types, the answer is dlt's own, asked once per hint; an unhashable hint
  is asked of dlt each time; the cache never grows past KEEP hints.
- Installed where dlt calls it (the resolver, the environment provider, the configuration package, and a
  module imported after the install), idempotent, and uninstalled back to dlt's own everywhere.
- With the trim installed, a secret still resolves from the environment and a missing one is still refused.
- A destination's capabilities, kept per naming convention: equal to dlt's own answer for DuckDB and PostgreSQL
  with and without a schema's naming, worked out by dlt once per destination and naming, a copy for each call
  (what one caller amends, the next does not see), a call with a configuration answered by dlt each time, and
  dlt's own method back after `uninstall`.
"""
from __future__ import annotations

import functools
import sys
from typing import Annotated, Any, NewType, Optional, Union

import dlt
import pytest
from dlt.common.configuration import configspec, resolve_configuration
from dlt.common.configuration.exceptions import ConfigFieldMissingException
from dlt.common.configuration.specs import BaseConfiguration, ConnectionStringCredentials, base_configuration
from dlt.common.destination.reference import Destination
from dlt.common.normalizers.naming.sql_cs_v1 import NamingConvention as CaseSensitive
from dlt.common.schema import Schema
from dlt.common.typing import SecretSentinel, TSecretStrValue, TSecretValue

from pipelines import dlt_trims

DLT_OWN = base_configuration.is_secret_hint.__dict__.get("__wrapped__", base_configuration.is_secret_hint)
Token = NewType("Token", TSecretStrValue)  # type: ignore[valid-newtype]
HINTS = [TSecretValue, TSecretStrValue, Optional[TSecretStrValue], Annotated[str, SecretSentinel], Token,
         ConnectionStringCredentials, Optional[ConnectionStringCredentials], Union[ConnectionStringCredentials, str],
         str, Optional[str], int, list[str], dict[str, Any], Annotated[str, "not a secret"], NewType("Name", str)]


@pytest.fixture
def trimmed():
    was = dlt_trims._dlt_own is not None
    dlt_trims.install()
    yield
    if not was:
        dlt_trims.uninstall()


def test_the_answer_is_dlts_own_and_asked_once_per_hint(monkeypatch):
    asked: list[Any] = []

    def counted(hint: Any) -> bool:
        asked.append(hint)
        return DLT_OWN(hint)

    is_secret = dlt_trims._answered_once(counted)
    expected = [DLT_OWN(h) for h in HINTS]
    assert expected.count(True) >= 6 and expected.count(False) >= 6  # both answers are exercised
    for _ in range(3):
        assert [is_secret(h) for h in HINTS] == expected
    distinct = [h for i, h in enumerate(HINTS) if h not in HINTS[:i]]  # Annotated[str, SecretSentinel] is TSecretStrValue
    assert asked == distinct and len(distinct) == len(HINTS) - 1  # each asked of dlt once, later rounds from the cache

    unhashable = Annotated[str, {"a": "dict"}]
    with pytest.raises(TypeError):
        hash(unhashable)
    asked.clear()
    assert is_secret(unhashable) is DLT_OWN(unhashable) and is_secret(unhashable) is DLT_OWN(unhashable)
    assert asked == [unhashable, unhashable]  # asked each time, never cached

    monkeypatch.setattr(dlt_trims, "KEEP", 4)
    bounded = dlt_trims._answered_once(counted)
    for h in HINTS:
        bounded(h)
    cache = next(c.cell_contents for c in bounded.__closure__ if isinstance(c.cell_contents, dict))
    assert 0 < len(cache) <= 4


def test_installed_where_dlt_calls_it_and_uninstalled_everywhere():
    import dlt.common.configuration as configuration
    import dlt.common.configuration.providers.environ as environ
    import dlt.common.configuration.resolve as resolve

    was = dlt_trims._dlt_own is not None
    dlt_trims.uninstall()
    try:
        for mod in (base_configuration, configuration, environ, resolve):
            assert mod.is_secret_hint is DLT_OWN
        dlt_trims.install()
        trimmed = base_configuration.is_secret_hint
        assert trimmed is not DLT_OWN and trimmed.__wrapped__ is DLT_OWN
        for mod in (configuration, environ, resolve):
            assert mod.is_secret_hint is trimmed, mod.__name__
        dlt_trims.install()  # idempotent
        assert base_configuration.is_secret_hint is trimmed
        sys.modules.pop("dlt.common.reflection.spec", None)  # a dlt module imported after the install
        import dlt.common.reflection.spec as spec

        assert spec.is_secret_hint is trimmed
        dlt_trims.uninstall()
        for mod in (base_configuration, configuration, environ, resolve, spec):
            assert mod.is_secret_hint is DLT_OWN, mod.__name__
    finally:
        if was:
            dlt_trims.install()


@configspec
class _Conf(BaseConfiguration):
    api_key: TSecretStrValue = None
    name: str = None


def test_secrets_still_resolve_from_the_environment_and_a_missing_one_is_refused(trimmed, monkeypatch):
    monkeypatch.setenv("WHSYNC_TRIM_TEST__API_KEY", "k-123")
    monkeypatch.setenv("WHSYNC_TRIM_TEST__NAME", "n")
    conf = resolve_configuration(_Conf(), sections=("whsync_trim_test",))
    assert (conf.api_key, conf.name) == ("k-123", "n")
    monkeypatch.delenv("WHSYNC_TRIM_TEST__API_KEY")
    with pytest.raises(ConfigFieldMissingException, match="api_key"):
        resolve_configuration(_Conf(), sections=("whsync_trim_test",))


def _fields(caps: Any) -> dict[str, Any]:
    """The capabilities' values, a partial (made anew by each answer) as its function and arguments."""
    return {k: (v.func, v.args, v.keywords) if isinstance(v, functools.partial) else v for k, v in dict(caps).items()}


@pytest.mark.parametrize("make", [lambda tmp: dlt.destinations.duckdb(str(tmp / "w.duckdb")),
                                  lambda tmp: dlt.destinations.postgres("postgresql://u:p@127.0.0.1:1/db")],
                         ids=["duckdb", "postgres"])
def test_capabilities_are_dlts_own_worked_out_once_per_destination_and_naming(make, tmp_path):
    was = dlt_trims._dlt_capabilities is not None
    dlt_trims.uninstall()
    try:
        own = Destination.capabilities
        folded = Schema("whsync_trim_test").naming  # snake_case: not case-sensitive
        sensitive = CaseSensitive()
        assert not folded.is_case_sensitive and sensitive.is_case_sensitive
        namings = (None, folded, sensitive)
        expected = {id(n): _fields(own(make(tmp_path), naming=n)) for n in namings}
        assert expected[id(None)] == expected[id(folded)]  # dlt's adjustment changes nothing for a folding naming
        dlt_trims.install()
        assert Destination.capabilities is not own and Destination.capabilities.__wrapped__ is own
        asked: list[Any] = []
        counted = dlt_trims._capabilities_kept(lambda self, config=None, naming=None: (
            asked.append((config, naming)), own(self, config, naming))[1])
        dest = make(tmp_path)
        for _ in range(3):
            for n in namings:
                assert _fields(counted(dest, naming=n)) == expected[id(n)]
        # once for no naming and the folding one (the same answer), once for the case-sensitive one
        assert asked == [(None, None), (None, sensitive)]
        first, second = counted(dest), counted(dest)
        assert first is not second
        first.preferred_loader_file_format = "amended by a caller"
        assert counted(dest).preferred_loader_file_format == expected[id(None)]["preferred_loader_file_format"]
        other = make(tmp_path)  # another destination works its own out
        counted(other, naming=folded)
        assert asked[-1] == (None, folded) and len(asked) == 3
        config = dest.spec()
        counted(dest, config)
        counted(dest, config)
        assert asked[-2:] == [(config, None), (config, None)]  # with a configuration: dlt's, each time
        assert _fields(Destination.capabilities(make(tmp_path))) == expected[id(None)]  # the installed trim
        dlt_trims.uninstall()
        assert Destination.capabilities is own
    finally:
        if was:
            dlt_trims.install()
