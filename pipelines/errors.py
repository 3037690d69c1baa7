"""The one-line cause of a failure and its exit code, for the CLI, the failure journal and
orchestrators (examples/dagster)."""
from __future__ import annotations


def explain(exc: BaseException) -> tuple[str, int]:
    """The one-line cause of a failure (dlt wraps our errors; unwrap them), secrets removed, and the
    exit code: 2 bad configuration, 1 anything else."""
    from .bencher.client import BencherError
    from .benchling.client import BenchlingError
    from .benchling.source import MalformedRecordError
    from .dbt import DbtBuildError
    from .paradime.client import ParadimeError
    from .sync import ConfigError
    from .targets import TargetConfigError, TargetError
    from .targets.pgconn import redact_configured

    seen = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, (ConfigError, TargetConfigError)):
            return redact_configured(str(cur)), 2
        if isinstance(cur, (BenchlingError, MalformedRecordError, DbtBuildError, TargetError,
                            ParadimeError, BencherError)):
            return redact_configured(str(cur)), 1
        cur = cur.__cause__ or cur.__context__
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return redact_configured(f"{type(exc).__name__}: {first[:300]}"), 1
