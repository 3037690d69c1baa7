"""Access review campaigns: a frozen population, reviewers' decisions, an evidence pack.

A campaign copies its population from `access` at the latest published sync (`model.py`: the tables,
the canonical form and its SHA-256), assigns each row to a reviewer (`reviewers.py`), hands reviewers a
workbook (`workbook.py`: .xlsx or .csv), records their decisions append-only after validating the whole
file (`decisions.py`), and writes the evidence pack (`evidence.py`). Every write goes through the target
layer (`store.py`): a private build published atomically while holding the warehouse's writer lock, so a
review write and a sync never interleave, and readers never see half a campaign. The tables are
persistent relations (`catalog.PERSISTENT_RELATIONS`): every sync and publish carries them unchanged.
The CLI is `cli.py` (`whsync review start|import|status|close|evidence`).
"""
from __future__ import annotations


class ReviewError(ValueError):
    """Bad input for a review command (which value, what to do): one line, exit code 2."""


class ReviewIncomplete(RuntimeError):
    """A state that is not an input error but stops the command (e.g. close with undecided rows): exit 1."""
