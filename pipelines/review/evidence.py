"""`whsync review evidence NAME --out DIR`: the evidence pack an auditor asks for, from the warehouse alone.

    population.csv   the frozen population: every item with its facts (the directory's flags included),
                     reviewer, run_id and item_hash
    decisions.csv    every decision, superseded ones included (with what superseded them), who and when
    revocations.csv  each revoke / change_role decided, and its state (`revocation_states`)
    summary.html     one self-contained page in the report's style: counts per system, per reviewer and
                     per decision, the flags (left the company, outside the directory, ...) with their outcomes
                     and the accounts of the two directory lists with their current decision, the
                     revocations and their state (no script, no request)
    manifest.json    the SHA-256 and size of each file above, the campaign, its population hash, the
                     sync `run_id` it froze, and the flag counts
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from . import ReviewError
from .campaign import progress
from .model import DECISIONS, DIRECTORY_FACTS, FACTS, FLAGS, NOT_REVIEWED, population_hash
from .store import reading

TEMPLATES = Path(__file__).resolve().parent / "templates"
REPORT_TEMPLATES = Path(__file__).resolve().parents[1] / "report" / "templates"  # report.css: the report's style
OUTCOMES = (*DECISIONS, NOT_REVIEWED, "undecided")
POPULATION_COLUMNS = ["item_id", *[c for c, _ in FACTS + DIRECTORY_FACTS], "reviewer", "run_id", "item_hash"]
DECISION_COLUMNS = ["seq", "decision_id", "item_id", "system", "scope", "account_id", "email", "decision", "new_role",
                    "justification", "reviewer", "decided_at", "source", "source_file", "source_sha256",
                    "source_sheet", "source_row", "superseded", "superseded_by"]
REVOCATION_COLUMNS = ["item_id", "system", "scope", "account_id", "email", "name", "role", "action", "new_role",
                      "justification", "reviewer", "decided_at", "decision_id", "state", "state_detail"]


def revocation_states(reader: Any, campaign: dict[str, Any]) -> list[dict[str, Any]]:
    """Each account whose current decision removes or changes access (revoke, change_role), and the state
    of that action. The hook remediation extends: today the state comes from the decisions alone
    (`decided`: nothing records that it was carried out yet); a remediation log joined here by
    `decision_id` turns it into applied / verified / failed, with its own detail."""
    out = []
    for row in reader.current(campaign["campaign_id"]):
        if row["decision"] in ("revoke", "change_role"):
            out.append({
                "item_id": row["item_id"], "system": row["system"], "scope": row["scope"],
                "account_id": row["account_id"], "email": row["email"], "name": row["name"], "role": row["role"],
                "action": row["decision"], "new_role": row["new_role"], "justification": row["justification"],
                "reviewer": row["decided_by"], "decided_at": row["decided_at"], "decision_id": row["decision_id"],
                "state": "decided", "state_detail": "no remediation recorded in this warehouse",
            })
    from ..remediate.evidence import remediation_states  # issue 23: the audit and its verification, by decision

    states = remediation_states(reader.con, [r["decision_id"] for r in out if r["decision_id"]])
    for r in out:
        if r["decision_id"] in states:
            r["state"], r["state_detail"] = states[r["decision_id"]]
    return out


def text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _write_csv(path: Path, columns: list[str], rows: list[dict[str, Any]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(columns)
        w.writerows([text(r.get(c)) for c in columns] for r in rows)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def gather(target: Any, name: str) -> dict[str, Any]:
    """Everything the pack holds, read from the published warehouse."""
    with reading(target) as r:
        campaign = r.campaign(name)
        items = r.items(campaign["campaign_id"])
        decisions = r.decisions(campaign["campaign_id"])
        current = r.current(campaign["campaign_id"])
        revocations = revocation_states(r, campaign)
    recomputed = population_hash(items)
    if recomputed != campaign["population_hash"]:  # the frozen rows no longer hash to what was recorded
        raise ReviewError(f"campaign {name!r}: review_item hashes to {recomputed[:12]}…, not the recorded "
                          f"{campaign['population_hash'][:12]}…: its population was altered in the warehouse")
    by_item = {int(i["item_id"]): i for i in items}
    later: dict[int, str] = {}
    for d in reversed(decisions):  # newest first: each older decision is superseded by the next newer one
        key = int(d["item_id"])
        d["superseded_by"] = later.get(key)
        d["superseded"] = key in later
        later[key] = d["decision_id"]
        d.update({k: by_item[key][k] for k in ("system", "scope", "account_id", "email")})
    return {"campaign": campaign, "items": items, "decisions": decisions, "current": current,
            "revocations": revocations, "progress": progress(campaign, current, items)}


def flagged(items: list[dict[str, Any]], current: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The accounts of the two directory lists (left the company, outside the directory), with their current
    decision: left the company first (by `left_at`), then outside the directory."""
    cur = {int(c["item_id"]): c for c in current}
    out = [{**i, "flag": flag, "decision": cur[int(i["item_id"])]["decision"],
            "decided_by": cur[int(i["item_id"])]["decided_by"]}
           for flag in ("left_company", "outside_directory") for i in items if i.get(flag)]
    out.sort(key=lambda r: (r["flag"] != "left_company", r["left_at"] is None, r["left_at"] or datetime.min,
                            r["email"] or "", int(r["item_id"])))
    return out


def counts(current: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """Per `key` (system or reviewer): items and the current outcome counts."""
    out: dict[str, dict[str, Any]] = {}
    for row in current:
        g = out.setdefault(row[key], {key: row[key], "items": 0, **{o: 0 for o in OUTCOMES}})
        g["items"] += 1
        g[row["decision"] or "undecided"] += 1
    return [out[k] for k in sorted(out)]


def render_html(pack: dict[str, Any], generated_at: datetime, files: dict[str, Any]) -> str:
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader([TEMPLATES, REPORT_TEMPLATES]), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["cell"] = lambda v: "" if v is None else v.strftime("%Y-%m-%d %H:%M") if isinstance(v, datetime) else text(v)
    current = pack["current"]
    totals = {o: sum(1 for r in current if (r["decision"] or "undecided") == o) for o in OUTCOMES}
    items = {int(i["item_id"]): i for i in pack["items"]}
    flags = [{"flag": f, "items": pack["progress"]["flags"][f]["items"],
              **{o: sum(1 for r in current if items[int(r["item_id"])].get(f) and (r["decision"] or "undecided") == o)
                 for o in OUTCOMES}}
             for f in FLAGS if pack["progress"]["flags"][f] is not None]
    return env.get_template("evidence.html.j2").render(
        c=pack["campaign"], p=pack["progress"], outcomes=OUTCOMES, totals=totals, flags=flags,
        directory=pack["progress"]["flags"]["left_company"] is not None, flagged=flagged(pack["items"], current),
        by_system=counts(current, "system"), by_reviewer=counts(current, "reviewer"),
        revocations=pack["revocations"], decisions=len(pack["decisions"]),
        superseded=sum(1 for d in pack["decisions"] if d["superseded"]),
        self_reviews=sum(1 for d in pack["decisions"] if d["source"] == "import"
                         and (d["email"] or "").strip().lower() == (d["reviewer"] or "").strip().lower()),
        generated_at=generated_at, files=files)


def write_pack(target: Any, name: str, out: Path) -> dict[str, Any]:
    """Write the pack into `out` (created if missing; its parent must exist); return the manifest."""
    from .. import runlog

    out = out.resolve()
    if not out.parent.is_dir():
        raise ReviewError(f"--out {out}: the directory {out.parent} does not exist")
    if out.exists() and not out.is_dir():
        raise ReviewError(f"--out {out} is a file: give a directory for the evidence pack")
    pack = gather(target, name)
    out.mkdir(exist_ok=True)
    generated = datetime.now(timezone.utc).replace(tzinfo=None)
    c = pack["campaign"]
    _write_csv(out / "population.csv", POPULATION_COLUMNS, pack["items"])
    _write_csv(out / "decisions.csv", DECISION_COLUMNS, pack["decisions"])
    _write_csv(out / "revocations.csv", REVOCATION_COLUMNS, pack["revocations"])
    data_files = ["population.csv", "decisions.csv", "revocations.csv"]
    files = {f: {"sha256": sha256_file(out / f), "bytes": (out / f).stat().st_size} for f in data_files}
    (out / "summary.html").write_text(render_html(pack, generated, files), encoding="utf-8")
    files["summary.html"] = {"sha256": sha256_file(out / "summary.html"), "bytes": (out / "summary.html").stat().st_size}
    manifest = {
        "campaign": {
            "name": c["name"], "campaign_id": c["campaign_id"], "owner": c["owner"], "systems": c["systems"].split(","),
            "run_id": c["run_id"], "synced_at": text(c["synced_at"]), "population_hash": c["population_hash"],
            "items": c["items"], "inactive_days": c["inactive_days"], "created_at": text(c["created_at"]),
            "closed_at": text(c["closed_at"]) or None, "closed_by": c["closed_by"],
        },
        "run_id": c["run_id"],
        "population_hash": c["population_hash"],
        "population_hash_method": "SHA-256 of the items' canonical JSON lines in item_id order (pipelines/review/model.py)",
        "decisions": len(pack["decisions"]),
        "flags": {f: (None if v is None else v["items"]) for f, v in pack["progress"]["flags"].items()},
        "outcomes": {o: n for o, n in ((o, sum(1 for r in pack["current"] if (r["decision"] or "undecided") == o))
                                       for o in OUTCOMES)},
        "warehouse": target.label(),
        "generated_at": text(generated),
        "whsync_version": runlog.whsync_version(),
        "files": files,
    }
    tmp = out / ".manifest.json.tmp"
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    os.replace(tmp, out / "manifest.json")
    return manifest
