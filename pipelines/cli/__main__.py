"""`python -m pipelines.cli`: the same as the `whsync` command."""
from . import app

app()
