"""whsync's errors and the one-line cause of a failure with its exit code, for the CLI, the failure journal
and orchestrators (examples/dagster).

Every error whose message is already the cause, in one line and safe to print, derives from `WhsyncError`
and says its exit code; `ConfigError` (bad configuration or input: exit 2) is one of them. This module is
plumbing: it imports nothing of the sources, targets or features, which define their errors on these bases.
"""
from __future__ import annotations

from .redact import redact_configured

BAD_CONFIG = 2


class WhsyncError(Exception):
    """A failure whose message is its cause in one line, with no secret in it (exit `exit_code`)."""

    exit_code = 1


class ConfigError(WhsyncError, ValueError):
    """Bad or missing configuration: the message says which value and what to do (exit 2)."""

    exit_code = BAD_CONFIG


def explain(exc: BaseException) -> tuple[str, int]:
    """The one-line cause of a failure (dlt wraps our errors; unwrap them), secrets removed, and the
    exit code: 2 bad configuration, 1 anything else."""
    chain: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in {id(c) for c in chain}:
        chain.append(cur)
        if isinstance(cur, WhsyncError):
            return redact_configured(str(cur)), cur.exit_code
        inner = getattr(cur, "exception", None)  # dlt's PipelineStepFailed holds the step's error here
        cur = cur.__cause__ or (inner if isinstance(inner, BaseException) else None) or cur.__context__
    # no error of ours: the innermost one with a message is the cause, not a wrapper's first line
    cause = next((c for c in reversed(chain) if str(c).strip()), exc)
    first = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
    return redact_configured(f"{type(cause).__name__}: {first[:300]}"), 1
