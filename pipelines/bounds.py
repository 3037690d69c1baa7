"""Bounds of whsync's numeric options: a value outside them is bad input, refused in one line (exit 2),
naming the value and the range, instead of failing later (an OverflowError, a wait that never ends)."""
from __future__ import annotations

import math
import sys

import typer

INACTIVE_DAYS = (1, 36500)  # report --inactive-days: up to 100 years
ACTIVITY_BUDGET = (0, 1_000_000)  # sync --activity-budget: requests
WAIT_SECONDS = (0.0, 7 * 86400.0)  # sync/build --wait: up to a week
MAX_AGE_SECONDS = (1.0, 3650 * 86400.0)  # status --max-age: up to 10 years


def check(option: str, value: float, bounds: tuple[float, float], unit: str) -> str | None:
    """The one-line refusal of `value` for `option`, or None when it is within `bounds`."""
    low, high = bounds
    if isinstance(value, float) and not math.isfinite(value) or not (low <= value <= high):
        return f"{option} {_num(value)}: give {unit} from {_num(low)} to {_num(high)}"
    return None


def _num(x: float) -> str:
    return str(int(x)) if isinstance(x, int) or (math.isfinite(x) and float(x).is_integer()) else str(x)


def wait_option(value: float) -> float:
    """typer callback of --wait: refuse a value out of bounds with one line and exit 2."""
    message = check("--wait", value, WAIT_SECONDS, "seconds")
    if message:
        print(f"whsync: error: {message}", file=sys.stderr, flush=True)
        raise typer.Exit(2)
    return value
