"""A source is one folder and one registry entry (issue 19). `tests/fakesource/widgets/` is a fifth source
(a made-up API served below); registering it is one line, and then the real `whsync sync` lists it in
`--source`, extracts it with its own progress line next to Benchling, loads its raw table, records it in
`sync_run`, and reports its configuration errors: nothing else in whsync changes."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import duckdb
import pytest

from pipelines import catalog, sources
from pipelines.benchling.simulator import DEMO_API_KEY, BenchlingSimulator, generate_tenant

ROOT = Path(__file__).resolve().parents[1]
ENTRY = "tests.fakesource.widgets"
# the `whsync` command with the fifth source's registry entry
WHSYNC = [sys.executable, "-c", "import sys; import pipelines.sources as s; "
          f"s.REGISTRY.append({ENTRY!r}); sys.argv[0] = 'whsync'; from pipelines.cli import app; app()"]
TOKEN = "widgets-token-0123456789"
WIDGETS = [{"id": f"w{i}", "name": f"widget {i}", "size": i * 10} for i in range(7)]


class _Api(BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self) -> None:  # noqa: N802
        type(self).requests.append(self.path)
        ok = self.path == "/widgets" and self.headers.get("Authorization") == f"Bearer {TOKEN}"
        body = json.dumps({"widgets": WIDGETS} if ok else {"error": "no"}).encode()
        self.send_response(200 if ok else 401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def widgets_api():
    _Api.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Api)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def whsync(args, cwd, env_extra=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BENCHLING_", "WIDGETS_"))}
    env["PYTHONPATH"] = str(ROOT)
    env.update(env_extra or {})
    return subprocess.run([*WHSYNC, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def test_one_registry_entry_makes_a_source_everywhere(monkeypatch):
    monkeypatch.setattr(sources, "REGISTRY", [*sources.REGISTRY, ENTRY])
    assert sources.names()[-1] == "widgets"
    assert [s.name for s in sources.choose(["all"])] == ["benchling", "paradime", "bencher", "okta", "widgets"]
    assert catalog.raw_datasets()["widgets"] == "widgets_raw"
    assert "widgets" in catalog.sources()


def test_sync_help_lists_the_new_source_and_its_credentials(tmp_path):
    p = whsync(["sync", "--help"], tmp_path, {"COLUMNS": "400"})
    assert p.returncode == 0, p.stderr
    assert "benchling, paradime, bencher, okta, widgets or all" in p.stdout
    assert "WIDGETS_URL + WIDGETS_TOKEN" in p.stdout


def test_its_missing_configuration_is_exit_2_naming_what_to_set(tmp_path):
    p = whsync(["sync", "--source", "widgets", "--duckdb", "w.duckdb"], tmp_path)
    assert p.returncode == 2, p.stderr
    assert p.stderr.strip().splitlines()[-1] == ("whsync: error: Widgets is not configured: set WIDGETS_URL and "
                                                  "WIDGETS_TOKEN (or url and token under [sources.widgets] in "
                                                  ".dlt/secrets.toml)")


def test_the_fifth_source_syncs_next_to_benchling(tmp_path, widgets_api):
    tenant = generate_tenant(seed=5, users=6, apps=1, teams=2, projects=2, folders=3)
    with BenchlingSimulator(tenant, api_key=DEMO_API_KEY, rate_limit="off") as sim:
        p = whsync(["sync", "--source", "benchling,widgets", "--base-url", sim.base_url, "--duckdb", "w.duckdb"],
                   tmp_path, {"BENCHLING_API_KEY": DEMO_API_KEY, "WIDGETS_URL": widgets_api, "WIDGETS_TOKEN": TOKEN})
    assert p.returncode == 0, p.stderr
    out = p.stdout + p.stderr
    assert "extracting from Benchling" in out and "extracting from Widgets" in out
    assert TOKEN not in out
    assert _Api.requests == ["/widgets"]  # one request, as the API counted it
    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    try:
        rows = con.execute("select id, name, size from widgets_raw.widgets order by id").fetchall()
        assert rows == [(w["id"], w["name"], w["size"]) for w in WIDGETS]
        assert con.execute('select count(*) from "user"').fetchone()[0] == 6  # Benchling built as before
        (srcs,) = con.execute("select sources from sync_run").fetchone()
    finally:
        con.close()
    run = json.loads(srcs)
    assert sorted(run) == ["benchling", "widgets"]
    assert run["widgets"]["requests"] == 1 and run["widgets"]["loaded"] == {"widgets": 7}
