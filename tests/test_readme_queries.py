"""The README's "Query the warehouse" commands, run verbatim (in a directory holding the demo
warehouse, with this checkout's .venv and .tools) as a user on a fresh machine would after `make demo`."""
from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
from pathlib import Path
from tests.helpers import child_env

ROOT = Path(__file__).resolve().parents[1]


def test_readme_query_commands_work_verbatim(demo_warehouse, tmp_path):
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Query the warehouse"):readme.index("## The tables")]
    script = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    assert ".venv/bin/whsync sql" in script
    shutil.copyfile(demo_warehouse, tmp_path / "warehouse.duckdb")
    for d in (".venv", ".tools"):
        (tmp_path / d).symlink_to(ROOT / d)
    env = child_env("BENCHLING_", "WHSYNC_")
    p = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, env=env, stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert "handle" in p.stdout.splitlines()[0] and re.search(r"^\(\d+ rows?\)$", p.stdout, re.M)
    rows = list(csv.reader((tmp_path / "purposes.csv").open()))
    assert rows[0] == ["archive_purpose$", "count_star()"] and len(rows) > 2

    cli = re.search(r"`(\.tools/bin/uvx [^`]*duckdb -readonly warehouse\.duckdb)`", section).group(1)
    p = subprocess.run(["bash", "-c", cli + " -csv -c 'select count(*) from \"user\"'"], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0 and int(p.stdout.split()[-1]) > 0, p.stderr
