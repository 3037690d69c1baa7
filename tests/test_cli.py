"""The `whsync` CLI as a user runs it: exit codes, one-line causes, and no secret in any output."""
from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import pytest

from pipelines.benchling.simulator import BenchlingSimulator, generate_tenant
from tests import forkserver

WHSYNC = str(Path(sys.executable).with_name("whsync"))
SECRET = "sk-not-the-right-key-0123456789"


# `whsync` as its entry point runs it, with one change: the retry policy's wait between tries is 10 ms
# instead of its real backoff (up to 1 + 2 + 4 + 8 + 15 s; tests/test_http.py tests it). The tries, their
# bounds and the messages are the product's own; only the length of each wait differs.
WHSYNC_SHORT_WAITS = [sys.executable, "-c", "import sys; import pipelines.http as h; "
                      "h.RetryPolicy.delay = lambda self, tries, retry_after=None: 0.01; "
                      "sys.argv[0] = 'whsync'; from pipelines.cli import app; app()"]


def run(args, tmp_path, env_extra=None, timeout=120, short_waits=False):
    env = {k: v for k, v in os.environ.items() if not k.startswith("BENCHLING_")}
    env.update(env_extra or {})
    cmd = [*WHSYNC_SHORT_WAITS] if short_waits else [WHSYNC]
    return forkserver.run([*cmd, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def sim():
    s = BenchlingSimulator(generate_tenant(seed=3, users=5, apps=1, teams=1, projects=1, folders=2),
                           rate_limit="off").start()
    yield s
    s.stop()


def test_wrong_key_is_refused_by_that_tenant(sim, tmp_path):
    p = run(["sync", "--base-url", sim.base_url, "--duckdb", "w.duckdb"], tmp_path,
            {"BENCHLING_API_KEY": SECRET})
    assert p.returncode == 1
    assert "API key was refused by 127.0.0.1" in p.stderr
    errors = [l for l in p.stderr.splitlines() if l.startswith("whsync: error:")]
    assert len(errors) == 1 and p.stderr.strip().endswith(errors[0])  # one line, last, after progress
    assert SECRET not in p.stdout + p.stderr
    assert not (tmp_path / "w.duckdb").exists(), "a failed first sync publishes nothing"


def test_unknown_host_says_so(tmp_path):
    p = run(["sync", "--base-url", "https://no-such-tenant.invalid"], tmp_path, {"BENCHLING_API_KEY": SECRET})
    assert p.returncode == 1
    assert "host 'no-such-tenant.invalid' is unknown" in p.stderr
    assert SECRET not in p.stdout + p.stderr


def test_closed_port_says_unreachable(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    p = run(["sync", "--base-url", f"http://127.0.0.1:{port}"], tmp_path, {"BENCHLING_API_KEY": SECRET},
            short_waits=True)
    assert p.returncode == 1
    assert "cannot reach Benchling at 127.0.0.1" in p.stderr
    assert "gave up after 3 tries" in p.stderr  # a refused connection: fewer tries than other failures


def test_missing_key_names_the_variable(tmp_path):
    p = run(["sync", "--base-url", "https://acme.benchling.com"], tmp_path)
    assert p.returncode == 2
    assert "BENCHLING_API_KEY" in p.stderr


def test_missing_tenant_names_the_option(tmp_path):
    p = run(["sync"], tmp_path, {"BENCHLING_API_KEY": SECRET})
    assert p.returncode == 2
    assert "--base-url" in p.stderr and "BENCHLING_BASE_URL" in p.stderr


def test_plain_http_to_a_remote_host_is_refused(tmp_path):
    p = run(["sync", "--base-url", "http://acme.benchling.com"], tmp_path, {"BENCHLING_API_KEY": SECRET})
    assert p.returncode == 2
    assert "plain http" in p.stderr
    assert SECRET not in p.stdout + p.stderr


def test_key_is_not_a_flag(tmp_path):
    p = run(["sync", "--api-key", SECRET], tmp_path)
    assert p.returncode == 2
    assert "--api-key" in p.stderr  # typer: no such option


def test_sync_help_explains_credentials(tmp_path):
    p = run(["sync", "--help"], tmp_path)
    assert p.returncode == 0
    for word in ("--base-url", "--duckdb", "--no-build", "BENCHLING_API_KEY", "secrets.toml"):
        assert word in p.stdout


def _serve_with(hook):
    return BenchlingSimulator(generate_tenant(seed=3, users=5, apps=1, teams=1, projects=1, folders=2),
                              rate_limit="off", request_hook=hook).start()


@pytest.mark.parametrize("bad_user,needle", [
    ({"name": "No Id", "handle": "noid", "email": "n@x.io", "isSuspended": False}, "users record without a valid `id`"),
    ({"id": "ent_badtype1", "name": "T", "handle": "t", "email": "t@x.io", "isSuspended": "yes"},
     "users record whose `is_suspended` is not a bool"),
])
def test_record_out_of_contract_fails_naming_it(tmp_path, bad_user, needle):
    """Never silently dropped: the sync fails, names the record, and publishes nothing."""
    from pipelines.benchling.simulator import Response

    def hook(req):
        if req.path.endswith("/users"):
            return Response(200, {"users": [bad_user], "nextToken": ""})
        return None

    sim = _serve_with(hook)
    try:
        p = run(["sync", "--base-url", sim.base_url, "--duckdb", "w.duckdb"], tmp_path,
                {"BENCHLING_API_KEY": "whsync-demo-key"})
    finally:
        sim.stop()
    assert p.returncode == 1
    err = [l for l in p.stderr.splitlines() if l.startswith("whsync: error:")]
    assert len(err) == 1 and needle in err[0] and bad_user.get("handle", "") in err[0]
    assert not (tmp_path / "w.duckdb").exists()


def test_malformed_json_fails_after_bounded_retries(tmp_path):
    from pipelines.benchling.simulator import Response

    users_gets = []

    def hook(req):
        if req.path.endswith("/users"):
            users_gets.append(req.path)
            return Response(200, b'{"users": [', {"content-type": "application/json"})
        return None

    sim = _serve_with(hook)
    try:
        p = run(["sync", "--base-url", sim.base_url, "--duckdb", "w.duckdb"], tmp_path,
                {"BENCHLING_API_KEY": "whsync-demo-key"}, short_waits=True)
    finally:
        sim.stop()
    assert p.returncode == 1
    assert "body that is not JSON (gave up after 6 tries" in p.stderr
    assert len(users_gets) == 6, "the simulator saw exactly the 6 tries the message names"
    assert not (tmp_path / "w.duckdb").exists()


@pytest.mark.parametrize("source,env,secrets", [
    ("bencher", {"BENCHER_API_TOKEN": SECRET, "BENCHER_API_URL": "http://bencher.example.com"}, [SECRET]),
    ("paradime", {"PARADIME_API_ENDPOINT": "http://api.paradime.example/api/v1/wsabcdef01234567/graphql",
                  "PARADIME_API_KEY": SECRET, "PARADIME_API_SECRET": SECRET + "-s"},
     [SECRET, "api.paradime.example", "wsabcdef01234567"]),
])
def test_every_source_refuses_plain_http_to_a_remote_host(tmp_path, source, env, secrets):
    """The refusal is the HTTP layer's, not Benchling's alone: a Bencher token or Paradime keys never
    cross the network unencrypted either (and a Paradime endpoint, itself secret, is not printed)."""
    p = run(["sync", "--source", source, "--duckdb", "w.duckdb"], tmp_path, env)
    assert p.returncode == 2
    assert "plain http" in p.stderr and source.capitalize() in p.stderr
    for s in secrets:
        assert s not in p.stdout + p.stderr
    assert not (tmp_path / "w.duckdb").exists()
