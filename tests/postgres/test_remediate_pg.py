"""Remediation on PostgreSQL: the audit table lives in the warehouse schema, survives the next sync's
atomic publish (carried like history), is covered by grant-reader, and the verification view reads it."""
from __future__ import annotations

import json
from pathlib import Path

import psycopg2

from ..remediate.world import ADA, OPERATOR, SECRETS, World


def test_remediation_on_postgres(pg_server, tmp_path: Path) -> None:
    db = pg_server.create_database()
    dsn = pg_server.dsn(db)
    w = World(tmp_path, pg_dsn=dsn)
    try:
        w.sync()
        plan = tmp_path / "plan.json"
        r = w.run("remediate", "plan", "--offboard", ADA, "--out", str(plan))
        assert r.returncode == 0, r.stdout + r.stderr
        r = w.run("remediate", "apply", str(plan), "--apply", "--operator", OPERATOR)
        assert r.returncode == 0, r.stdout + r.stderr
        # the 10 % guard's Benchling count: the warehouse's (read on PostgreSQL), corrected by the account read live
        assert "benchling: " in r.stdout and "active accounts for the --max-fraction guard" in r.stdout
        assert "corrected by the live state of the 1 account(s) the live check read" in " ".join(r.stdout.split())
        con = psycopg2.connect(dsn)
        con.autocommit = True
        cur = con.cursor()
        cur.execute("select system, phase, outcome from public.remediation_action order by recorded_at, phase")
        rows = cur.fetchall()
        assert len(rows) == 8 and {o for _, p, o in rows if p == "outcome"} == {"applied"}
        assert w.bl_user(ADA)["isSuspended"] is True
        cur.execute("create role auditor login password 'pw'")
        r = w.run("grant-reader", "auditor")
        assert r.returncode == 0 and "remediation_action" in r.stdout and "remediation_verification" in r.stdout, r.stdout
        w.sync()  # the publish swaps every relation: the audit is carried, its grant kept
        cur.execute("select count(*) from public.remediation_action")
        assert cur.fetchone() == (8,)
        reader = psycopg2.connect(pg_server.dsn(db, user="auditor", password="pw"))
        rc = reader.cursor()
        rc.execute("select system, verification from public.remediation_verification order by system, action_key")
        assert [v for _, v in rc.fetchall()] == ["verified"] * 4
        rc.execute("select count(*) from public.remediation_action")
        assert rc.fetchone() == (8,)
        reader.close()
        con.close()
        assert not any(k in plan.read_text() + json.dumps(rows) for k in SECRETS)
    finally:
        w.stop()
