"""Local Bencher REST API simulator (used by `whsync demo`, `whsync simulate bencher` and tests)."""
from .server import DEMO_TOKEN, ROLES, BencherSimulator, generate_fixture, load_fixture, rfc3339

__all__ = ["DEMO_TOKEN", "ROLES", "BencherSimulator", "generate_fixture", "load_fixture", "rfc3339"]
