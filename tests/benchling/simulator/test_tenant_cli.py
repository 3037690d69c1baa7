"""Fixture load/validate/dump, the generator, and the `whsync simulate benchling` command."""
import json
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import requests

from pipelines.benchling.simulator import Tenant, TenantError, generate_tenant

from .conftest import TRICKY
from tests import forkserver

WHSYNC = str(Path(sys.executable).with_name("whsync"))


def test_dump_roundtrip_and_determinism(tmp_path):
    t = generate_tenant(seed=5, users=50, apps=3, teams=6, projects=8, folders=40)
    t.dump(tmp_path / "t.json")
    assert Tenant.load(tmp_path / "t.json").to_dict() == t.to_dict()
    assert generate_tenant(seed=5, users=50, apps=3, teams=6, projects=8, folders=40).to_dict() == t.to_dict()
    assert generate_tenant(seed=6, users=50, apps=3, teams=6, projects=8, folders=40).to_dict() != t.to_dict()


def test_generator_shapes():
    t = generate_tenant(seed=1, users=600, apps=10, teams=40, projects=60, folders=900)
    assert any(u["isSuspended"] for u in t.users)
    for kind, prefix in [("users", "ent_"), ("apps", "app_"), ("teams", "team_"), ("projects", "src_"),
                         ("folders", "lib_"), ("organizations", "ent_")]:
        assert all(o["id"].startswith(prefix) and len(o["id"]) == len(prefix) + 8 for o in getattr(t, kind))
    sizes = Counter(m["teamId"] for m in t.memberships)
    assert max(sizes.values()) >= 300 and min(sizes.values()) == 1
    assert any(m["user"]["id"].startswith("app_") for m in t.memberships)
    in_team = {m["user"]["id"] for m in t.memberships}
    assert any(u["id"] not in in_team for u in t.users)
    names = "".join(u["name"] for u in t.users)
    assert any(ord(c) > 0x3000 for c in names) and any(0xC0 <= ord(c) <= 0x17F for c in names)
    assert any(ord(c) > 0x1F000 for c in names)
    for kind in ("projects", "folders"):
        assert {(o["archiveRecord"] or {}).get("reason") for o in getattr(t, kind)} == {None, "Made in error", "Retired", "Other"}
    parents = {f["id"]: f["parentFolderId"] for f in t.folders}

    def depth(fid):
        d = 1
        while parents[fid]:
            fid, d = parents[fid], d + 1
        return d
    assert max(depth(f) for f in parents) >= 5
    assert all(o.get("_modifiedAt") for k in ("users", "teams", "organizations", "projects", "folders")
               for o in getattr(t, k))
    # folders of archived projects are archived too
    archived_p = {p["id"] for p in t.projects if p["archiveRecord"]}
    assert all(f["archiveRecord"] for f in t.folders if f["projectId"] in archived_p)


def _bad(tmp_path, mutate):
    data = json.loads(TRICKY.read_text(encoding="utf-8"))
    mutate(data)
    p = tmp_path / "bad.json"
    p.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(TenantError) as e:
        Tenant.load(p)
    return str(e.value)


def test_validation_errors_name_the_object(tmp_path):
    assert "duplicate id 'ent_a0SApq3z'" in _bad(tmp_path, lambda d: d["users"].append(dict(d["users"][0])))
    assert "users[1]" in _bad(tmp_path, lambda d: d["users"][1].pop("id"))
    msg = _bad(tmp_path, lambda d: d["memberships"].append({"teamId": "team_ghost", "user": d["memberships"][0]["user"],
                                                            "role": "MEMBER"}))
    assert "team_ghost" in msg and "memberships[" in msg
    msg = _bad(tmp_path, lambda d: d["memberships"][0]["user"].update(id="ent_ghost"))
    assert "ent_ghost" in msg
    assert "src_ghost" in _bad(tmp_path, lambda d: d["folders"][0].update(projectId="src_ghost"))
    msg = _bad(tmp_path, lambda d: d["folders"][1].update(parentFolderId="lib_ghost"))
    assert "lib_ghost" in msg and "lib_L2aaaaa2" in msg
    assert "not valid JSON" in (lambda p: (p.write_text("{"), pytest.raises(TenantError, Tenant.load, p))[1].value.args[0])(tmp_path / "x.json")


def test_tricky_fixture_shapes():
    t = Tenant.load(TRICKY)
    assert 100 < Counter(m["teamId"] for m in t.memberships).most_common(1)[0][1]
    assert any(f["parentFolderId"] is None for f in t.folders)


def test_help_mentions_every_option():
    r = forkserver.run([WHSYNC, "simulate", "benchling", "--help"], capture_output=True, text=True, timeout=60,
                       env={**os.environ, "COLUMNS": "200"})
    assert r.returncode == 0
    for opt in ["--fixture", "--seed", "--users", "--apps", "--teams", "--projects", "--folders", "--dump-fixture",
                "--port", "--api-key", "--rate-limit", "--latency-ms"]:
        assert opt in r.stdout, opt


def test_cli_serves_and_stops_on_sigterm(tmp_path):
    dump = tmp_path / "served.json"
    p = forkserver.Popen([WHSYNC, "simulate", "benchling", "--port", "0", "--users", "30", "--teams", "3",
                          "--projects", "4", "--folders", "12", "--dump-fixture", str(dump), "--rate-limit", "off"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline().strip()
        assert line.startswith("http://127.0.0.1:") and line.endswith("/api/v2")
        r = requests.get(line + "/users", auth=("whsync-demo-key", ""), params={"pageSize": 100}, timeout=5)
        assert r.status_code == 200 and len(r.json()["users"]) == 30
        assert len(Tenant.load(dump).users) == 30
    finally:
        p.send_signal(signal.SIGTERM)
        assert p.wait(timeout=10) == 0


def test_cli_fixture(tmp_path):
    p = forkserver.Popen([WHSYNC, "simulate", "benchling", "--fixture", str(TRICKY), "--api-key", "k2"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = p.stdout.readline().strip()
        r = requests.get(url + "/teams/team_AllHnd01", auth=("k2", ""), timeout=5)
        assert r.status_code == 200 and r.headers["x-rate-limit-limit"] == "60"
    finally:
        p.send_signal(signal.SIGINT)
        assert p.wait(timeout=10) == 0


@pytest.mark.parametrize("args,needle", [
    (["--rate-limit", "abc"], "'abc'"),
    (["--fixture", "/nonexistent/t.json"], "/nonexistent/t.json"),
    (["--port", "70000"], "70000"),
    (["--latency-ms", "-5"], "-5"),
])
def test_cli_bad_options_exit_2(args, needle):
    r = forkserver.run([WHSYNC, "simulate", "benchling", *args], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0]


def test_cli_invalid_fixture_exit_2(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"users": [{"name": "no id"}]}), encoding="utf-8")
    r = forkserver.run([WHSYNC, "simulate", "benchling", "--fixture", str(bad)], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 2 and "users[0]" in r.stderr and len(r.stderr.strip().splitlines()) == 1
