"""Local Benchling API v2 simulator (see README.md in this folder)."""
from .server import DEMO_API_KEY, DEMO_CLIENT_ID, BenchlingSimulator, Request, Response
from .generate import generate_tenant
from .tenant import Tenant, TenantError

__all__ = ["DEMO_API_KEY", "DEMO_CLIENT_ID", "BenchlingSimulator", "Request", "Response", "Tenant",
           "TenantError", "generate_tenant"]
