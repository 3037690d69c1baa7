"""The demo's Okta org: the company directory of the demo's Benchling, Paradime and Bencher people, with
planted people who left the company and still have accounts elsewhere (so the demo report shows them):

- two DEPROVISIONED (deactivated) and one SUSPENDED, each still active in Benchling;
- one more DEPROVISIONED that the demo deletes from Okta between its two syncs (gone from the API, kept
  in the warehouse as `is_deleted`, `person.directory_status = 'DELETED'`);
- two people active in Paradime or Bencher who are not in the directory at all (contractors);
- everyone else ACTIVE, plus generated directory-only people in every status.
"""
from __future__ import annotations

from typing import Any, Iterable

from .directory import generate_directory


def demo_directory(seed: int, benchling: Iterable[tuple[str, str, bool]], others: Iterable[tuple[str, str]],
                   extra_users: int = 20) -> tuple[dict[str, Any], str]:
    """(fixture, id of the user to delete after the first sync). `benchling`: (email, name, active) per user;
    `others`: (email, name) of the Paradime and Bencher people."""
    active = [(e, n) for e, n, ok in benchling if ok and e]
    suspended = [(e, n) for e, n, ok in benchling if not ok and e]
    left = {active[0][0]: "DEPROVISIONED", active[1][0]: "DEPROVISIONED", active[2][0]: "SUSPENDED",
            active[3][0]: "DEPROVISIONED"}
    seen = {e.lower() for e, _ in active + suspended}
    rest = [(e, n) for e, n in dict.fromkeys((e, n) for e, n in others if e) if e.lower() not in seen]
    contractors = {e.lower() for e, _ in rest[-2:]}
    people = active + suspended + [(e, n) for e, n in rest if e.lower() not in contractors]
    fx = generate_directory(seed, users=extra_users, groups=4, apps=3, people=people, left=left)
    doomed = next(u["id"] for u in fx["users"] if u["profile"]["email"] == active[3][0])
    return fx, doomed
