"""`whsync`, the command line: `app` (in `common.py`, with the shared options and error printing) and one
module per command or command family. Each module registers its commands on `app` when imported; a new
command is a new module here and one line below. The order of the lines is the order of `whsync --help`."""
from __future__ import annotations

from .common import app, simulate_app

from . import version  # noqa: E402,F401 - whsync --version
from . import sync  # noqa: E402,F401 - sync, build
from . import demo  # noqa: E402,F401
from . import grant  # noqa: E402,F401 - grant-reader
from . import sql  # noqa: E402,F401
from . import docs  # noqa: E402,F401
from . import report  # noqa: E402,F401
from . import simulate  # noqa: E402,F401 - simulate benchling|paradime|bencher
from . import status  # noqa: E402,F401
from . import review  # noqa: E402,F401 - review start|workbook|import|status|close|evidence
from . import remediate  # noqa: E402,F401 - remediate plan|apply

__all__ = ["app", "simulate_app"]

