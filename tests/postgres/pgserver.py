"""A throwaway PostgreSQL server for the tests: initdb into a temp dir, start on 127.0.0.1 and a
unix socket, stop and delete on exit. PostgreSQL refuses to run as root, so as root the server runs
as a system user (`whsync_pg`, created on first use)."""
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
import time
from pathlib import Path

PG_USER = "whsync_pg"
SUPERUSER = "postgres"


def find_bin(name: str) -> str | None:
    # /usr/local/bin, then Debian's versioned dirs (newest first), then PATH
    debian = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name)
                    if p.parent.name.isdigit() else 0, reverse=True)
    for d in ["/usr/local/bin", *map(str, debian)]:
        p = Path(d) / name
        if p.exists():
            return str(p)
    return shutil.which(name)


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
    def __init__(self) -> None:
        self.initdb, self.pg_ctl = find_bin("initdb"), find_bin("pg_ctl")
        if not (self.initdb and self.pg_ctl):
            raise RuntimeError("PostgreSQL binaries (initdb, pg_ctl) not found; `.ci/run` installs them")
        self.password = secrets.token_urlsafe(16)
        self.port = _free_port()
        self.root = Path(tempfile.mkdtemp(prefix="whsync-pg-"))
        self.data = self.root / "data"
        self.sock = self.root / "sock"
        self._as: list[str] = []

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
                   "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync", "-E", "UTF8",
                   "--locale=C"])
        opts = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.sock} -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c max_connections=100 "
                "-c shared_buffers=32MB -c timezone=UTC")
        self._run([self.pg_ctl, "-D", str(self.data), "-o", opts, "-l", str(self.root / "log"),
                   "-w", "-t", "60", "start"])
        return self

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._run([self.pg_ctl, "-D", str(self.data), "-m", "immediate", "-w", "-t", "30", "stop"])
        shutil.rmtree(self.root, ignore_errors=True)

    def create_database(self, prefix: str = "t") -> str:
        import psycopg2

        name = f"{prefix}_{secrets.token_hex(4)}"
        con = psycopg2.connect(self.dsn_admin)
        con.autocommit = True
        try:
            con.cursor().execute(f'create database "{name}"')
        finally:
            con.close()
        return name
