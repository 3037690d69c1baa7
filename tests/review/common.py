"""Shared by the review tests: the CLI as a user runs it, the population hash recomputed as the README
documents it (not with whsync's own code), a reviewer filling the workbook with openpyxl, and the
evidence pack checked file by file."""
from __future__ import annotations

import csv
import hashlib
import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any
from tests import forkserver
from tests.helpers import child_env

WHSYNC = str(Path(sys.executable).with_name("whsync"))
FACTS = ["system", "scope", "account_id", "email", "name", "status", "role", "last_seen", "dormant", "never_used",
         "offboarding_gap", "privileged"]
# the directory's facts (Okta): in the canonical line only when the campaign was started with a directory synced
DIRECTORY_FACTS = ["directory_status", "left_company", "left_at", "outside_directory"]
BOOLEANS = ("dormant", "never_used", "offboarding_gap", "privileged", "left_company", "outside_directory")
WORKBOOK_COLUMNS = ["campaign_id", "population_hash", "item_id", *FACTS, *DIRECTORY_FACTS, "reviewer", "decision",
                    "new_role", "justification"]
REVIEW_TABLES = ("review_campaign", "review_item", "review_decision", "review_decision_current")


def whsync(args: list[str], cwd: Path, env_extra: dict[str, str] | None = None,
           timeout: float = 300) -> subprocess.CompletedProcess:
    env = child_env("BENCHLING_", "WHSYNC_", "PARADIME_", "BENCHER_", "PG", "DESTINATION__")
    env.update(env_extra or {})
    return forkserver.run([WHSYNC, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def canonical_line(item: dict[str, Any]) -> str:
    """README: a JSON array of the facts in order (the directory's after them when left_company is not NULL),
    times ISO 8601, flags true/false, NULL null, no spaces."""
    vals = []
    for c in FACTS + (DIRECTORY_FACTS if item.get("left_company") is not None else []):
        v = item[c]
        if isinstance(v, datetime):
            v = v.isoformat()
        elif c in BOOLEANS and v is not None:
            v = bool(v)
        vals.append(v)
    return json.dumps(vals, separators=(",", ":"), ensure_ascii=False)


def population_sha256(items: list[dict[str, Any]]) -> str:
    lines = "".join(canonical_line(i) + "\n" for i in sorted(items, key=lambda i: int(i["item_id"])))
    return hashlib.sha256(lines.encode()).hexdigest()


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def sheet_rows(ws: Any) -> list[dict[str, Any]]:
    """A review sheet's rows as dicts, with `_row` (the spreadsheet's row number)."""
    rows = list(ws.iter_rows(values_only=True))
    header = list(rows[0])
    return [dict(zip(header, r), _row=n) for n, r in enumerate(rows[1:], start=2)]


def fill(ws: Any, row: int, decision: str | None, new_role: str | None = None, justification: str | None = None) -> None:
    """What a reviewer types into a row (the decision, new_role and justification cells)."""
    header = [c.value for c in ws[1]]
    ws.cell(row, header.index("decision") + 1).value = decision
    ws.cell(row, header.index("new_role") + 1).value = new_role
    ws.cell(row, header.index("justification") + 1).value = justification


def check_manifest(out: Path) -> dict[str, Any]:
    """The pack's manifest, every file's SHA-256 and size recomputed here."""
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(manifest["files"]) == {"population.csv", "decisions.csv", "revocations.csv", "summary.html"}
    assert sorted(p.name for p in out.iterdir()) == sorted([*manifest["files"], "manifest.json"])
    for name, f in manifest["files"].items():
        assert f["sha256"] == sha256_file(out / name), name
        assert f["bytes"] == (out / name).stat().st_size, name
    return manifest
