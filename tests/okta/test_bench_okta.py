"""A tiny run of the Okta benchmark (bench/okta.py, scenario 8): it prints the floor computed from the
generated org and what each client measured; whsync spends exactly the floor's requests per bucket and no
429 (speed targets are judged in `make bench`, not here)."""
from __future__ import annotations

import re

from bench.__main__ import main


def test_bench_okta_smoke(capsys):
    assert main(["--smoke", "--scenarios", "8"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"\d+ cores", out)
    m = re.search(r"requests floor: users (\d+), groups (\d+), apps (\d+); time floor T = ([\d.]+) s", out)
    assert m, out
    floor = " / ".join(m.group(i) for i in (1, 2, 3))
    rows = {ln.split("|")[1].strip(): [c.strip() for c in ln.strip().strip("|").split("|")]
            for ln in out.splitlines() if ln.startswith("| whsync") or ln.startswith("| okta SDK")}
    assert set(rows) == {"whsync", "okta SDK"}
    assert rows["whsync"][1] == floor and rows["whsync"][2] == "0"
    assert float(rows["whsync"][3]) > 0 and float(rows["okta SDK"][3]) > 0  # measured API seconds
    assert rows["whsync"][3] != rows["okta SDK"][3]
