"""`whsync simulate <source>`: run a source's API simulator (each source folder's `simulator/cli.py`)."""
from __future__ import annotations

from ..bencher.simulator.cli import simulate_bencher
from ..benchling.simulator.cli import simulate_benchling
from ..okta.simulator.cli import simulate_okta
from ..paradime.simulator.cli import simulate_paradime
from .common import simulate_app

simulate_app.command("benchling")(simulate_benchling)
simulate_app.command("paradime")(simulate_paradime)
simulate_app.command("bencher")(simulate_bencher)
simulate_app.command("okta")(simulate_okta)
