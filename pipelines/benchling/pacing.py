"""Pacing to Benchling's rate limit: one `RateBudget` per sync, shared by every request of every resource and
thread (`pipelines/ratelimit.py`, shared with Okta: Benchling's `x-rate-limit-reset` is the seconds left, the
budget's default `reset="seconds"` mode). It learns the tenant's limit from the `x-rate-limit-*` headers
(never hard-coded), and when the window's requests are spent it sleeps until the window resets instead of
bouncing off a 429."""
from __future__ import annotations

from ..ratelimit import ClientStats, RateBudget, _float_header, _int_header  # noqa: F401 - Benchling's names

__all__ = ["ClientStats", "RateBudget"]
