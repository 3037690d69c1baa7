"""Who reviews which account: the `--reviewers` file and the self-review rule.

The file is CSV with a header `system,scope,team,reviewer` (lines starting with `#` are comments):

    system,scope,team,reviewer
    benchling,,,lab-ops@acme.com                 # every Benchling account
    benchling,,Chemistry,chem-lead@acme.com      # Benchling members of the team "Chemistry" (name or id)
    paradime,workspace-1,,data-lead@acme.com     # one Paradime workspace
    bencher,*,,eng-lead@acme.com                 # `*` or empty: any scope

The most specific rule wins (a team rule over a scope rule over a system rule; among equals, the first
in the file); an account no rule covers goes to the campaign owner. Nobody reviews their own account
(same person: the same email, lower-cased and trimmed): such a row goes to the owner, or, when the owner
is that person, to the first other reviewer of the file. A campaign where that leaves someone's own
account without another reviewer is refused.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import ReviewError
from .. import sources

HEADER = ["system", "scope", "team", "reviewer"]


def person(email: str | None) -> str:
    """The person behind an email, as `access` and `person` key it: lower-cased and trimmed."""
    return (email or "").strip().lower()


def check_email(value: str, what: str) -> str:
    e = person(value)
    if not e or "@" not in e or " " in e or e.startswith("@") or e.endswith("@"):
        raise ReviewError(f"{what} {value!r} is not an email address: give the reviewer's email, e.g. alice@example.com")
    return e


@dataclass(frozen=True)
class Rule:
    line: int
    system: str
    scope: str | None
    team: str | None
    reviewer: str

    def specificity(self) -> int:
        return (4 if self.team else 0) + (2 if self.scope else 0)

    def matches(self, item: dict[str, Any], teams: dict[str, set[str]]) -> bool:
        if item["system"] != self.system or (self.scope and self.scope != item["scope"]):
            return False
        return not self.team or self.team in teams.get(item["account_id"], set())


def load_rules(path: Path) -> list[Rule]:
    """The rules of a reviewers file; ReviewError naming the line of anything wrong."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as e:
        raise ReviewError(f"--reviewers {path}: cannot read it ({e.strerror or e})") from None
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    numbers = [i + 1 for i, ln in enumerate(text.splitlines()) if ln.strip() and not ln.lstrip().startswith("#")]
    rows = list(csv.reader(io.StringIO("\n".join(lines))))
    if not rows or [c.strip().lower() for c in rows[0]] != HEADER:
        raise ReviewError(f"--reviewers {path}: the first line must be the header {','.join(HEADER)}")
    rules = []
    for n, row in zip(numbers[1:], rows[1:]):
        where = f"--reviewers {path} line {n}"
        cells = [c.split("#", 1)[0].strip() for c in row] + [""] * 4
        if len(row) > 4 and any(c.strip() for c in row[4:]):
            raise ReviewError(f"{where}: {len(row)} columns, expected {','.join(HEADER)}")
        system, scope, team, reviewer = cells[:4]
        if system.lower() not in sources.names():
            raise ReviewError(f"{where}: unknown system {system!r}: use {', '.join(sources.names())}")
        if team and system.lower() != "benchling":
            raise ReviewError(f"{where}: a team rule is for Benchling only (teams are Benchling's)")
        rules.append(Rule(n, system.lower(), None if scope in ("", "*") else scope, team or None,
                          check_email(reviewer, f"{where}: reviewer")))
    return rules


def assign(items: list[dict[str, Any]], rules: list[Rule], owner: str | None,
           teams: dict[str, set[str]]) -> None:
    """Set `item["reviewer"]` for every item (ReviewError when an account would have no reviewer).
    `teams`: Benchling user id -> the ids and names of its teams."""
    others = list(dict.fromkeys(r.reviewer for r in rules))
    unmapped, stuck = [], []
    for item in items:
        matching = [r for r in rules if r.matches(item, teams)]
        best = max(matching, key=lambda r: (r.specificity(), -r.line)) if matching else None
        reviewer = best.reviewer if best else owner
        if reviewer is None:
            unmapped.append(item)
            continue
        me = person(item["email"])
        if reviewer == me:  # nobody reviews their own account
            reviewer = owner if owner and owner != me else next((o for o in others if o != me), None)
        if reviewer is None:
            stuck.append(item)
            continue
        item["reviewer"] = reviewer
    if unmapped:
        ex = unmapped[0]
        raise ReviewError(f"{len(unmapped)} accounts have no reviewer (e.g. {ex['system']} {ex['scope']} "
                          f"{ex['email']}): give --owner EMAIL (who reviews what no rule covers) or a rule for them")
    if stuck:
        ex = stuck[0]
        raise ReviewError(f"nobody else can review {ex['email']}'s own {ex['system']} account: give --owner EMAIL of "
                          "another person, or a --reviewers file with another reviewer")
