"""`whsync sync --source paradime|bencher|all` and `whsync simulate paradime|bencher` as a user runs them:
credentials from the environment, exit codes, one-line causes, and no secret in any output.

The simulators run in this process on port 0; the CLI runs as a subprocess against them.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipelines.bencher.simulator import BencherSimulator
from pipelines.bencher.simulator import load_fixture as load_bencher_fixture
from pipelines.benchling.simulator import DEMO_API_KEY, BenchlingSimulator, generate_tenant
from pipelines.paradime.simulator import ParadimeSimulator
from pipelines.paradime.simulator import load_fixture as load_paradime_fixture
from tests import forkserver
from tests.helpers import child_env

WHSYNC = str(Path(sys.executable).with_name("whsync"))
FIXTURES = Path(__file__).resolve().parent / "fixtures"
PD = json.loads((FIXTURES / "paradime_tricky.json").read_text(encoding="utf-8"))
BC = json.loads((FIXTURES / "bencher_tricky.json").read_text(encoding="utf-8"))
WRONG = "wrong-secret-0123456789abcdef"

# what the fixtures imply the warehouse tables hold (disabled users are never returned; the hidden
# organization is not visible to the token)
PD_COUNTS = {
    "paradime.user": sum(1 for w in PD["workspaces"] for u in w["activeUsers"] if not u.get("_disabled")),
    "paradime.invited_user": sum(len(w["invitedUsers"]) for w in PD["workspaces"]),
    "paradime.workspace": len(PD["workspaces"]),
}
_VISIBLE = [o for o in BC["organizations"] if o.get("_visible", True)]
BC_COUNTS = {"bencher.organization": len(_VISIBLE), "bencher.member": sum(len(o["_members"]) for o in _VISIBLE)}


def run(args, tmp_path, env_extra=None, timeout=180):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BENCHLING_", "PARADIME_", "BENCHER_", "OKTA_"))}
    env.update(env_extra or {})
    return forkserver.run([WHSYNC, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=timeout)


def printed_counts(stdout: str) -> dict[str, int]:
    out = {}
    for line in stdout.splitlines():
        parts = line.split()
        if line.startswith("  ") and len(parts) == 2 and parts[1].isdigit():
            out[parts[0]] = int(parts[1])
    return out


def error_line(p: subprocess.CompletedProcess) -> str:
    """The single `whsync: error:` line, which must be the last line of stderr."""
    errors = [line for line in p.stderr.splitlines() if line.startswith("whsync: error:")]
    assert len(errors) == 1, p.stderr
    assert p.stderr.strip().endswith(errors[0]), p.stderr
    return errors[0]


@pytest.fixture
def paradime():
    fx = load_paradime_fixture(FIXTURES / "paradime_tricky.json")
    with ParadimeSimulator(fx["workspaces"], api_key=fx["api_key"], api_secret=fx["api_secret"], port=0) as s:
        yield s


@pytest.fixture
def bencher():
    with BencherSimulator(load_bencher_fixture(FIXTURES / "bencher_tricky.json"), port=0) as s:
        yield s


def paradime_env(sim: ParadimeSimulator, secret: str = PD["api_secret"]) -> dict[str, str]:
    """Two workspaces, as a user configures several: PARADIME_WORKSPACES and per-workspace variables."""
    env = {"PARADIME_WORKSPACES": ",".join(w["name"] for w in PD["workspaces"])}
    for w in PD["workspaces"]:
        p = "PARADIME_" + w["name"].upper().replace("-", "_") + "__"
        env.update({p + "API_ENDPOINT": sim.endpoint_for(w["name"]), p + "API_KEY": PD["api_key"],
                    p + "API_SECRET": secret})
    return env


def bencher_env(sim: BencherSimulator, token: str = BC["token"]) -> dict[str, str]:
    return {"BENCHER_API_URL": sim.base_url, "BENCHER_API_TOKEN": token}


@pytest.mark.parametrize("source", ["paradime", "bencher"])
def test_sync_one_source_prints_its_tables(source, paradime, bencher, tmp_path):
    env = paradime_env(paradime) if source == "paradime" else bencher_env(bencher)
    p = run(["sync", "--source", source, "--duckdb", "w.duckdb", "--quiet"], tmp_path, env)
    assert p.returncode == 0, p.stderr
    want = PD_COUNTS if source == "paradime" else BC_COUNTS
    counts = printed_counts(p.stdout)
    # exactly this source's tables (no other source is present), and its accounts in access/person
    assert {k: v for k, v in counts.items() if k not in ("access", "person")} == want
    assert counts["access"] > 0 and counts["person"] > 0
    assert PD["api_secret"] not in p.stdout + p.stderr and BC["token"] not in p.stdout + p.stderr


def progress_counts(stderr: str) -> dict[str, tuple[int, int]]:
    """resource -> (rows, pages) from the last plain progress line that names them."""
    out: dict[str, tuple[int, int]] = {}
    for line in stderr.splitlines():
        for name, rows, pages in re.findall(r"([\w.]+): (\d+) rows/(\d+) pages", line):
            out[name] = (int(rows), int(pages))
    return out


def test_sync_all_sources(paradime, bencher, tmp_path):
    from pipelines.okta.simulator import OktaSimulator
    from pipelines.okta.simulator import load_fixture as load_okta_fixture

    tenant = generate_tenant(seed=3, users=5, apps=1, teams=1, projects=1, folders=2)
    okta = load_okta_fixture(FIXTURES / "okta_tricky.json")
    with BenchlingSimulator(tenant, api_key=DEMO_API_KEY, rate_limit="off").start() as bl, OktaSimulator(okta) as ok:
        p = run(["sync", "--source", "all", "--base-url", bl.base_url, "--duckdb", "w.duckdb"], tmp_path,
                {"BENCHLING_API_KEY": DEMO_API_KEY, **paradime_env(paradime), **bencher_env(bencher),
                 "OKTA_ORG_URL": ok.org_url, "OKTA_API_TOKEN": okta["api_token"]})
        okta_stats = ok.stats()
    assert p.returncode == 0, p.stderr
    counts = printed_counts(p.stdout)
    assert {k: counts.get(k) for k in {**PD_COUNTS, **BC_COUNTS}} == {**PD_COUNTS, **BC_COUNTS}
    assert counts.get("okta.user") == len(okta["users"])
    assert counts.get("user") == len(tenant.users) and "team_member" in counts  # Benchling's tables too

    # the progress line counts Paradime's and Bencher's requests as Benchling's: a page per answered request
    live = progress_counts(p.stderr)
    assert live["users"] == (len(tenant.users), 1)
    pd_stats = paradime.stats()
    workspaces = len(PD["workspaces"])
    assert live["paradime.users"] == (PD_COUNTS["paradime.user"] + PD_COUNTS["paradime.invited_user"], workspaces)
    assert live["paradime.workspaces"][1] == workspaces  # one listWorkspaces per configured workspace
    assert live["paradime.users"][1] + live["paradime.workspaces"][1] == pd_stats["requests"]
    bc_paths = bencher.stats()["by_path"]
    assert live["bencher.organizations"] == (len(_VISIBLE), bc_paths["GET /v0/organizations"])
    assert live["bencher.members"] == (BC_COUNTS["bencher.member"], bc_paths["GET /v0/organizations/:org/members"])
    assert live["bencher.members"][1] >= len(_VISIBLE)  # an organization's (empty) page is a request too
    # and Okta's: one page per answered listing request (users over 3 Link pages at the fixture's limit of 5)
    okta_pages = {k: v for k, v in live.items() if k.startswith("okta.")}
    assert okta_pages["okta.users"] == (len(okta["users"]), 3)
    assert sum(pages for _, pages in okta_pages.values()) == okta_stats["requests"] > 3
    # and the run log keeps them per resource, with the rows loaded per raw table
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        sources = json.loads(con.execute("select sources from sync_run").fetchone()[0])
    assert sources["paradime"]["pages"] == {"paradime.users": workspaces, "paradime.workspaces": workspaces}
    assert sources["paradime"]["loaded"]["active_users"] >= PD_COUNTS["paradime.user"]
    assert sources["bencher"]["pages"]["bencher.members"] == live["bencher.members"][1]
    assert sources["bencher"]["loaded"]["members"] == BC_COUNTS["bencher.member"]


@pytest.mark.parametrize("source,env,names", [
    ("paradime", {}, ["PARADIME_API_ENDPOINT"]),
    ("paradime", {"PARADIME_API_ENDPOINT": "http://127.0.0.1:9/api/v1/x/graphql"},
     ["PARADIME_API_KEY", "PARADIME_API_SECRET"]),
    ("paradime", {"PARADIME_WORKSPACES": "ws-a", "PARADIME_WS_A__API_ENDPOINT": "http://127.0.0.1:9/g",
                  "PARADIME_WS_A__API_KEY": "k"}, ["PARADIME_WS_A__API_SECRET"]),
    ("bencher", {"BENCHER_API_URL": "http://127.0.0.1:9"}, ["BENCHER_API_TOKEN"]),
    ("all", {"BENCHLING_API_KEY": "k", "BENCHER_API_TOKEN": "t"}, ["PARADIME_API_ENDPOINT"]),
    ("okta", {}, ["OKTA_ORG_URL"]),
    ("okta", {"OKTA_ORG_URL": "https://acme.okta.com"}, ["OKTA_API_TOKEN", "OKTA_CLIENT_ID", "OKTA_PRIVATE_KEY_FILE"]),
])
def test_missing_credentials_exit_2_naming_the_variable(source, env, names, tmp_path):
    args = ["sync", "--source", source, "--duckdb", "w.duckdb"]
    if source == "all":
        args += ["--base-url", "https://acme.benchling.com"]
    p = run(args, tmp_path, env)
    assert p.returncode == 2, p.stderr
    line = error_line(p)
    for name in names:
        assert name in line
    assert not (tmp_path / "w.duckdb").exists()


def test_wrong_paradime_secret_exits_1_without_printing_it(paradime, tmp_path):
    env = paradime_env(paradime, secret=WRONG)
    p = run(["sync", "--source", "paradime", "--duckdb", "w.duckdb", "--no-build"], tmp_path, env)
    assert p.returncode == 1
    line = error_line(p)
    assert "refused the credentials" in line and "data-platform" in line  # the cause, and which workspace
    out = p.stdout + p.stderr
    assert WRONG not in out and PD["api_key"] not in out
    assert not any(v in out for k, v in env.items() if k.endswith("API_ENDPOINT"))  # endpoints are secret too
    assert not (tmp_path / "w.duckdb").exists(), "a failed first sync publishes nothing"


def test_wrong_bencher_token_exits_1_without_printing_it(bencher, tmp_path):
    p = run(["sync", "--source", "bencher", "--duckdb", "w.duckdb", "--no-build"], tmp_path,
            bencher_env(bencher, token="bencher_user_" + WRONG))
    assert p.returncode == 1
    line = error_line(p)
    assert "refused the token" in line and "BENCHER_API_TOKEN" in line
    assert WRONG not in p.stdout + p.stderr
    assert not (tmp_path / "w.duckdb").exists()


def test_unknown_source_exits_2(tmp_path):
    p = run(["sync", "--source", "foo"], tmp_path)
    assert p.returncode == 2
    assert "'foo'" in error_line(p)


@pytest.mark.parametrize("name", ["paradime", "bencher", "okta"])
def test_simulate_help(name, tmp_path):
    p = run(["simulate", name, "--help"], tmp_path)
    assert p.returncode == 0, p.stderr
    assert "--fixture" in p.stdout and "--port" in p.stdout


@pytest.mark.parametrize("source,env", [
    ("benchling", {"BENCHLING_BASE_URL": "https://acme.benchling.com"}),
    ("paradime", {}),
    ("bencher", {"BENCHER_API_TOKEN": "tok"}),  # keys from the environment: the file is still dlt's to read
])
@pytest.mark.parametrize("name,text,line,col", [
    ("secrets.toml", '[sources.benchling]\napi_key = "sk_unterminated\n', 2, 26),
    ("config.toml", "[sources.benchling]\nbase_url = https://acme.benchling.com\n", 2, 11),
])
def test_malformed_dlt_toml_names_the_file_and_line_exit_2(source, env, name, text, line, col, tmp_path):
    (tmp_path / ".dlt").mkdir()
    (tmp_path / ".dlt" / name).write_text(text, encoding="utf-8")
    p = run(["sync", "--source", source, "--duckdb", "w.duckdb"], tmp_path, env)
    assert p.returncode == 2, p.stderr
    assert error_line(p).startswith(f"whsync: error: .dlt/{name} line {line}, column {col}: not valid TOML"), p.stderr
    assert "sk_unterminated" not in p.stdout + p.stderr and "credentials" not in error_line(p)
    assert not (tmp_path / "w.duckdb").exists()


def test_malformed_secrets_toml_is_reported_for_the_postgres_target_too(tmp_path):
    """Not "no PostgreSQL connection": the connection may well be in the file that does not parse."""
    (tmp_path / ".dlt").mkdir()
    (tmp_path / ".dlt" / "secrets.toml").write_text('[destination.postgres]\ncredentials = "postgresql://u:pw@h/db\n')
    p = run(["sync", "--target", "postgres", "--source", "bencher"], tmp_path, {"BENCHER_API_TOKEN": "tok"})
    assert p.returncode == 2, p.stderr
    assert error_line(p).startswith("whsync: error: .dlt/secrets.toml line 2, column 37: not valid TOML"), p.stderr
    assert "u:pw" not in p.stdout + p.stderr


_READS_WITHOUT_DLT = """
import sys
from pipelines.cli import app
try:
    app(sys.argv[1:], prog_name="whsync")
except SystemExit as e:
    code = e.code
else:
    code = 0
print("dlt imported" if "dlt" in sys.modules else "dlt not imported", file=sys.stderr)
sys.exit(code)
"""


def test_reading_commands_on_duckdb_import_no_dlt_unless_a_dlt_toml_exists(tmp_path):
    """`whsync status|sql` on a DuckDB file read nothing dlt reads: they do not pay dlt's import (about a
    second of CPU per command); a `.dlt/*.toml` that does not parse is still reported as itself, exit 2."""
    con = duckdb.connect(str(tmp_path / "w.duckdb"), config={"storage_compatibility_version": "v1.4.0"})
    con.execute("create table t as select 1 as x")
    con.close()
    env = child_env("BENCHLING_", "WHSYNC_", "DLT_")
    env["HOME"] = str(tmp_path / "home")  # no ~/.dlt either

    def whsync(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-c", _READS_WITHOUT_DLT, *args], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=120)

    p = whsync("sql", "--duckdb", "w.duckdb", "select x from t")
    assert p.returncode == 0 and "1" in p.stdout, p.stderr
    assert p.stderr.strip().splitlines()[-1] == "dlt not imported", p.stderr
    p = whsync("status", "--duckdb", "w.duckdb")
    assert p.stderr.strip().splitlines()[-1] == "dlt not imported", p.stderr
    # a sync refused for bad input says why without importing dlt either (pipelines/sync.py imports it to extract)
    p = whsync("sync", "--source", "nope", "--duckdb", "w.duckdb")
    assert p.returncode == 2 and "nope" in p.stderr.splitlines()[0], p.stderr
    assert p.stderr.strip().splitlines()[-1] == "dlt not imported", p.stderr

    (tmp_path / ".dlt").mkdir()
    (tmp_path / ".dlt" / "config.toml").write_text("[whsync]\nx = unquoted\n", encoding="utf-8")
    p = whsync("status", "--duckdb", "w.duckdb")
    assert p.returncode == 2, p.stderr
    assert p.stderr.startswith("whsync: error: .dlt/config.toml line 2, column 4: not valid TOML"), p.stderr
