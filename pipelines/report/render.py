"""The page (Jinja2 template, inline CSS and SVG, no script) and one CSV per list beside it."""
from __future__ import annotations

import csv
import os
import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

from . import Report, ReportError, parameters
from .charts import accounts_chart, timeline_chart

TEMPLATES = Path(__file__).resolve().parent / "templates"
SECTIONS = (
    ("header", "Sources"),
    ("accounts", "Accounts per system and status"),
    ("act", "To act on"),
    ("changes", "Changes in the review period"),
)


def cell_text(value: Any) -> str:
    """A value as the page shows it (times in UTC, to the minute; NULL as an empty cell)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def code_spans(text: str) -> Any:
    """Escape `text` and show its `backquoted` parts as code."""
    import re

    from markupsafe import Markup, escape

    return Markup(re.sub(r"`([^`]+)`", r"<code>\1</code>", str(escape(text))))


def csv_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def csv_path(out: Path, key: str) -> Path:
    return out.with_name(f"{out.stem}-{key}.csv")


def _atomic_write(path: Path, write: Any) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as f:
            write(f)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; the page and CSVs are for sharing
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_csvs(report: Report, out: Path) -> list[Path]:
    """One CSV per list that could run (a stale one of a list that cannot is removed)."""
    written = []
    for key, res in report.lists.items():
        path = csv_path(out, key)
        if not res.ok:
            path.unlink(missing_ok=True)
            continue

        def write(f: Any, res: Any = res) -> None:
            w = csv.writer(f)
            w.writerow(res.columns)
            w.writerows([csv_text(v) for v in row] for row in res.rows)

        _atomic_write(path, write)
        written.append(path)
    return written


def render_html(report: Report, out: Path) -> str:
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["cell"] = cell_text
    env.filters["heading"] = lambda c: c.replace("_", " ")
    env.filters["code"] = code_spans
    env.filters["relation"] = lambda r: r.replace('"', "")
    acc, chg = report.lists["accounts"], report.lists["changes"]
    charts = {
        "accounts": accounts_chart(acc.columns, acc.rows) if acc.ok else None,
        "changes": timeline_chart(chg.columns, chg.rows, report.since, report.generated_at) if chg.ok else None,
    }
    from ..project import version

    return env.get_template("report.html.j2").render(
        report=report, sections=SECTIONS, charts=charts, whsync_version=version(),
        params=parameters(report.generated_at, report.since, report.inactive_days),
        csv_name=lambda key: csv_path(out, key).name,
        total=lambda res, col: sum(r[res.columns.index(col)] or 0 for r in res.rows),
    )


def write_html(report: Report, out: Path) -> Path:
    html = render_html(report, out)
    _atomic_write(out, lambda f: f.write(html))
    return out


def write_report(report: Report, out: Path) -> list[Path]:
    """Write the HTML page and one CSV per list beside it; return the files written."""
    out = out.resolve()
    if not out.parent.is_dir():
        raise ReportError(f"--out {out}: the directory {out.parent} does not exist")
    return [write_html(report, out), *write_csvs(report, out)]
