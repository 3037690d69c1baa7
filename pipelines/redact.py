"""Secrets out of messages: the configured PostgreSQL password (raw and URL-encoded) and any URI credentials
are removed from every error the CLI prints or the failure journal records."""
from __future__ import annotations

import contextlib
import os
import re
from urllib.parse import quote

DSN_ENV = "WHSYNC_POSTGRES_DSN"


def redact(text: str, password: str | None) -> str:
    """Remove a password (raw and URL-encoded) and any URI credentials from a message."""
    if password:
        for p in {password, quote(password, safe="")}:
            text = text.replace(p, "***")
    return re.sub(r"(postgres(?:ql)?://[^:/@\s]+):[^@\s]*@", r"\1:***@", text)


def redact_configured(text: str) -> str:
    """Remove the password of the configured connection (WHSYNC_POSTGRES_DSN, PGPASSWORD) from a message."""
    password = None
    dsn = os.environ.get(DSN_ENV)
    if dsn:
        with contextlib.suppress(Exception):
            import psycopg2.extensions

            password = psycopg2.extensions.parse_dsn(dsn.strip()).get("password")
    return redact(redact(text, password), os.environ.get("PGPASSWORD"))
