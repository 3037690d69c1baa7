"""Local Okta management API simulator (used by `whsync demo`, `whsync simulate okta` and tests)."""
from .directory import DEMO_API_TOKEN, STATUSES, generate_directory, load_fixture
from .demo import demo_directory
from .server import OktaSimulator

__all__ = ["DEMO_API_TOKEN", "STATUSES", "OktaSimulator", "demo_directory", "generate_directory", "load_fixture"]
