"""`whsync status`: the warehouse's freshness for monitors; the command and its work are in `pipelines/status.py`."""
from __future__ import annotations

from ..status import status
from .common import app

app.command("status")(status)
