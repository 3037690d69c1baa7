"""`whsync demo` (the session's one, `demo_warehouse`): a real, paced sync of the three simulators at the
limit it states (a Benchling app's 300 requests / 30 s), so it never waits for the limit, and its
activity pass checks every user."""
from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb

from pipelines.benchling.spec import DEMO_RATE_LIMIT


def test_demo_states_its_rate_limit_and_waits_for_nothing(demo_warehouse: Path):
    assert DEMO_RATE_LIMIT == "300/30"
    out = (demo_warehouse.parent / "demo.stdout").read_text()
    m = re.search(r"\((\d+) Benchling API requests at the demo tenant's limit of 300 requests / 30 s, "
                  r"(\d+)s waited for it; [\d.]+s\)", out)
    assert m, out
    requests, waited = int(m.group(1)), int(m.group(2))
    with duckdb.connect(str(demo_warehouse), read_only=True) as con:
        # the demo's first sync (Benchling, Paradime, Bencher, Okta), then Okta again after a planted change
        sources = json.loads(con.execute("select sources from sync_run order by started_at").fetchone()[0])
        users = con.execute('select count(*) from "user"').fetchone()[0]
        checked = con.execute("select count(*) from user_activity where checked_at is not null").fetchone()[0]
    benchling = sources["benchling"]
    assert benchling["requests"] == requests and requests <= 300  # one window's worth: nothing to wait for
    assert waited == 0 and benchling["waited_seconds"] < 1 and benchling["rate_limited"] == 0
    # the activity pass is real: one request per user, within the same budget as the listings
    assert users == 200 and checked == users
    assert benchling["pages"]["user_activity"] == users and requests == sum(benchling["pages"].values())
    # Paradime and Bencher were synced too, their requests counted per resource
    assert {"benchling", "paradime", "bencher"} <= set(sources)
    assert sources["paradime"]["pages"] and sources["bencher"]["pages"]
    assert sum(sources["paradime"]["pages"].values()) == sources["paradime"]["requests"]
    assert sum(sources["bencher"]["pages"].values()) == sources["bencher"]["requests"]
