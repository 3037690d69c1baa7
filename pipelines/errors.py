"""The one-line cause of a failure and its exit code, for the CLI, the failure journal and
orchestrators (examples/dagster)."""
from __future__ import annotations


def explain(exc: BaseException) -> tuple[str, int]:
    """The one-line cause of a failure (dlt wraps our errors; unwrap them), secrets removed, and the
    exit code: 2 bad configuration, 1 anything else."""
    from .bencher.client import BencherError
    from .benchling.activity import ActivityConfigError
    from .benchling.client import BenchlingError
    from .benchling.source import MalformedRecordError
    from .dbt import DbtBuildError
    from .okta.client import OktaError
    from .paradime.client import ParadimeError
    from .sync import ConfigError
    from .targets import TargetConfigError, TargetError
    from .targets.pgconn import redact_configured

    chain: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in {id(c) for c in chain}:
        chain.append(cur)
        if isinstance(cur, (ConfigError, TargetConfigError, ActivityConfigError)):
            return redact_configured(str(cur)), 2
        if isinstance(cur, (BenchlingError, MalformedRecordError, DbtBuildError, TargetError,
                            ParadimeError, BencherError, OktaError)):
            return redact_configured(str(cur)), 1
        inner = getattr(cur, "exception", None)  # dlt's PipelineStepFailed holds the step's error here
        cur = cur.__cause__ or (inner if isinstance(inner, BaseException) else None) or cur.__context__
    # no error of ours: the innermost one with a message is the cause, not a wrapper's first line
    cause = next((c for c in reversed(chain) if str(c).strip()), exc)
    first = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
    return redact_configured(f"{type(cause).__name__}: {first[:300]}"), 1
