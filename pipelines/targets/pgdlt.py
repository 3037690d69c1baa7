"""dlt's postgres credentials for a connection libpq has resolved (see pgconn.py): dlt's own class
demands a password, which trust, peer and certificate logins do not have; and it renders a URI, which
cannot hold every libpq parameter. This one is a key=value conninfo built from the resolved values."""
from typing import Any, Dict, Optional

from dlt.common.configuration import configspec
from dlt.common.typing import TSecretStrValue
from dlt.destinations.impl.postgres.configuration import PostgresCredentials
from psycopg2.extensions import make_dsn


@configspec(init=False)
class LibpqCredentials(PostgresCredentials):
    password: Optional[TSecretStrValue] = None  # libpq may need none

    def to_native_representation(self) -> str:
        kw: Dict[str, Any] = {"host": self.host, "port": self.port, "user": self.username, "dbname": self.database,
                              "connect_timeout": self.connect_timeout, **(self.query or {})}
        if self.password:
            kw["password"] = self.password
        return make_dsn(**{k: v for k, v in kw.items() if v is not None})


def libpq_credentials(params: Dict[str, str], password: Optional[str], core: tuple) -> LibpqCredentials:
    creds = LibpqCredentials()
    creds.host, creds.port = params["host"], int(params["port"])
    creds.username, creds.database = params["user"], params["dbname"]
    creds.password = password
    creds.query = {k: v for k, v in params.items() if k not in core}
    creds.resolve()
    return creds
