"""The one-line cause of a failure and its exit code, for the CLI, the failure journal and
orchestrators (examples/dagster)."""
from __future__ import annotations


def explain(exc: BaseException) -> tuple[str, int]:
    """(one-line cause without secrets, exit code: 2 bad configuration, 1 anything else)."""
    from .cli import _err, _explain  # noqa: F401 - the CLI's mapping of whsync's errors

    msg, code = _explain(exc)
    try:
        from .postgres import redact_configured

        msg = redact_configured(msg)
    except ImportError:  # pragma: no cover - the target layer moves it
        pass
    return msg, code
