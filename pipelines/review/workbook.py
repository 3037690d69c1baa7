"""The workbook reviewers fill in: .xlsx (openpyxl) or .csv with the same columns.

One sheet per reviewer, named after the reviewer's email, with one row per account they review. Every
column but `decision`, `new_role` and `justification` is a frozen fact, locked by sheet protection (the
import also compares each fact with the campaign, so an edit is caught even where protection was
lifted). `decision` has a drop-down (keep, revoke, change_role), `new_role` a drop-down of the system's
roles. `campaign_id` and `population_hash` on every row tie the file to its campaign. Row numbers are the
spreadsheet's (the header is row 1), and a CSV's line numbers are the same.
"""
from __future__ import annotations

import csv
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator

from . import ReviewError
from .model import DECISIONS, DIRECTORY_FACTS, FACTS, ROLES

FACT_COLUMNS = ["campaign_id", "population_hash", "item_id", *[c for c, _ in FACTS + DIRECTORY_FACTS], "reviewer"]
# the flags a reviewer should see first: a true one is highlighted in the .xlsx
ALERT_FLAGS = ("left_company", "outside_directory", "offboarding_gap")
INPUT_COLUMNS = ["decision", "new_role", "justification"]
COLUMNS = FACT_COLUMNS + INPUT_COLUMNS
WIDTHS = {"campaign_id": 12, "population_hash": 12, "item_id": 8, "email": 30, "name": 24, "scope": 18,
          "account_id": 18, "last_seen": 20, "reviewer": 26, "decision": 14, "new_role": 22, "justification": 50,
          "directory_status": 16, "left_company": 13, "left_at": 20, "outside_directory": 16}


def cell_text(value: Any) -> str:
    """A cell as text, the same for what whsync wrote and what a spreadsheet program gives back."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return str(value).strip()


def row_values(item: dict[str, Any], campaign: dict[str, Any], current: dict[str, Any] | None = None) -> dict[str, Any]:
    """One workbook row for a frozen item, with its current decision if given."""
    out: dict[str, Any] = {"campaign_id": campaign["campaign_id"], "population_hash": campaign["population_hash"],
                           "item_id": int(item["item_id"])}
    for c, _ in FACTS + DIRECTORY_FACTS:
        out[c] = cell_text(item.get(c))
    out["reviewer"] = item["reviewer"]
    for c in INPUT_COLUMNS:
        out[c] = (current or {}).get(c) or None
    return out


def sheet_title(email: str, taken: set[str]) -> str:
    """A valid, unique sheet name (31 characters, none of []:*?/\\) for a reviewer's email."""
    base = re.sub(r"[\[\]:*?/\\']", "_", email)[:31]
    title, n = base, 2
    while title.lower() in taken:
        suffix = f"~{n}"
        title, n = base[:31 - len(suffix)] + suffix, n + 1
    taken.add(title.lower())
    return title


def _atomic(path: Path, write: Any, binary: bool = False) -> None:
    path = path.resolve()
    if not path.parent.is_dir():
        raise ReviewError(f"--out {path}: the directory {path.parent} does not exist")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_workbook(path: Path, campaign: dict[str, Any], items: list[dict[str, Any]],
                   current: dict[int, dict[str, Any]] | None = None) -> Path:
    """The workbook (.xlsx) or, for a .csv path, one CSV of every reviewer's rows; `current`: the current
    decision per item_id, prefilled (a re-export: importing it again records only what was changed)."""
    by_reviewer: dict[str, list[dict[str, Any]]] = {}
    for item in sorted(items, key=lambda i: (i["reviewer"], int(i["item_id"]))):
        cur = (current or {}).get(int(item["item_id"]))
        by_reviewer.setdefault(item["reviewer"], []).append(row_values(item, campaign, cur))
    if path.suffix.lower() == ".csv":
        def write_csv(tmp: Path) -> None:
            with open(tmp, "w", newline="", encoding="utf-8") as f:
                w = csv.DictWriter(f, fieldnames=COLUMNS)
                w.writeheader()
                for rows in by_reviewer.values():
                    w.writerows(rows)
        _atomic(path, write_csv)
    elif path.suffix.lower() == ".xlsx":
        _atomic(path, lambda tmp: _xlsx(campaign, by_reviewer).save(tmp))
    else:
        raise ReviewError(f"--out {path}: give a .xlsx (the workbook) or .csv file name")
    return path.resolve()


def _xlsx(campaign: dict[str, Any], by_reviewer: dict[str, list[dict[str, Any]]]) -> Any:
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill, Protection
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    wb.remove(wb.active)
    taken: set[str] = set()
    bold, fact_fill = Font(bold=True), PatternFill("solid", fgColor="F2F2F2")
    input_fill = PatternFill("solid", fgColor="FFF8C5")
    alert_fill, alert_font = PatternFill("solid", fgColor="F8D7DA"), Font(bold=True, color="9C0006")
    col = {c: get_column_letter(i + 1) for i, c in enumerate(COLUMNS)}
    for reviewer, rows in by_reviewer.items():
        ws = wb.create_sheet(sheet_title(reviewer, taken))
        ws.append(COLUMNS)
        for c in ws[1]:
            c.font = bold
        for row in rows:
            ws.append([row.get(c) for c in COLUMNS])
        last = len(rows) + 1
        for r in range(2, last + 1):
            for c in INPUT_COLUMNS:
                cell = ws[f"{col[c]}{r}"]
                cell.protection = Protection(locked=False)
                cell.fill = input_fill
            for c in FACT_COLUMNS:
                ws[f"{col[c]}{r}"].fill = fact_fill
            for c in ALERT_FLAGS:  # left the company / outside the directory / offboarding gap: highlighted
                cell = ws[f"{col[c]}{r}"]
                if cell.value == "true":
                    cell.fill, cell.font = alert_fill, alert_font
        decision = DataValidation(type="list", formula1='"' + ",".join(DECISIONS) + '"', allow_blank=True,
                                  showErrorMessage=True, errorTitle="decision",
                                  error="Choose keep, revoke or change_role.")
        ws.add_data_validation(decision)
        decision.add(f"{col['decision']}2:{col['decision']}{max(last, 2)}")
        systems = [row["system"] for row in rows]
        for system, roles in ROLES.items():
            rows_of = [i + 2 for i, s in enumerate(systems) if s == system]
            if not rows_of:
                continue
            runs: list[list[int]] = []
            for r in rows_of:  # contiguous rows as one range
                if runs and runs[-1][1] == r - 1:
                    runs[-1][1] = r
                else:
                    runs.append([r, r])
            cells = [f"{col['new_role']}{a}:{col['new_role']}{b}" for a, b in runs]
            dv = DataValidation(type="list", formula1='"' + ",".join(roles) + '"', allow_blank=True,
                                showErrorMessage=True, errorTitle="new_role",
                                error=f"Choose one of the {system} roles: {', '.join(roles)}.")
            ws.add_data_validation(dv)
            for cell in cells:
                dv.add(cell)
        for c in COLUMNS:
            ws.column_dimensions[col[c]].width = WIDTHS.get(c, 14)
        ws.freeze_panes = "D2"
        ws.auto_filter.ref = f"A1:{col[COLUMNS[-1]]}{last}"
        ws.protection.sheet = True  # facts read-only; decision, new_role and justification stay editable
        ws.protection.autoFilter = False
        ws.protection.sort = False
        ws.protection.formatColumns = False
    about = wb.create_sheet("about")
    for line in (
        ["whsync access review", campaign["name"]],
        ["campaign_id", campaign["campaign_id"]],
        ["population_hash", campaign["population_hash"]],
        ["sync run_id", campaign["run_id"]],
        ["owner", campaign["owner"] or ""],
        [],
        ["How to fill it in", "On your sheet, choose a decision for each row: keep, revoke or change_role "
         "(then pick new_role). revoke and change_role need a justification. Leave a row empty to decide later."],
        ["", "Do not edit the grey columns: they are the frozen facts and the import refuses a changed one."],
        ["Flags (in red when true)", "left_company: the directory (Okta) says this person left the company "
         "(directory_status SUSPENDED, DEPROVISIONED or DELETED, since left_at) and this account is still active. "
         "outside_directory: an active account of a person who is no active directory user (a contractor, a "
         "personal address, a typo). Both are empty when no directory was synced. offboarding_gap: the person is "
         "inactive in one system and active in another, or left by the directory."],
        ["", "Return the file; it is recorded with: whsync review import FILE --reviewer YOUR-EMAIL"],
    ):
        about.append(line)
    about.column_dimensions["A"].width = 20
    about.column_dimensions["B"].width = 100
    about.protection.sheet = True
    return wb


@dataclass
class FileRow:
    sheet: str | None  # None for a CSV
    row: int  # the spreadsheet's row number / the CSV's line number (header = 1)
    values: dict[str, str]

    def where(self, path: Path) -> str:
        return f"sheet {self.sheet!r} row {self.row}" if self.sheet is not None else f"{path.name} line {self.row}"


def read_rows(path: Path) -> Iterator[FileRow]:
    """Every data row of a workbook's review sheets (those whose header is `COLUMNS`) or of a CSV."""
    if not path.is_file():
        raise ReviewError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        yield from _read_csv(path)
    elif suffix in (".xlsx", ".xlsm"):
        yield from _read_xlsx(path)
    else:
        raise ReviewError(f"{path}: give the review workbook (.xlsx) or a .csv with its columns")


def _check_header(header: list[str], where: str) -> dict[str, int]:
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise ReviewError(f"{where}: the header lacks {', '.join(missing)}: use the file `whsync review start` wrote "
                          "(or write it again with `whsync review workbook NAME`)")
    return {c: header.index(c) for c in COLUMNS}


def _read_csv(path: Path) -> Iterator[FileRow]:
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.reader(f))
    except UnicodeDecodeError:
        raise ReviewError(f"{path}: not a UTF-8 CSV: save it as CSV UTF-8") from None
    if not rows:
        raise ReviewError(f"{path}: empty file")
    idx = _check_header([h.strip() for h in rows[0]], str(path))
    for n, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        row = row + [""] * (len(rows[0]) - len(row))
        yield FileRow(None, n, {c: cell_text(row[i]) for c, i in idx.items()})


def _read_xlsx(path: Path) -> Iterator[FileRow]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # noqa: BLE001 - a damaged or foreign file is the user's to fix
        raise ReviewError(f"{path}: not a readable .xlsx workbook ({type(e).__name__})") from None
    try:
        found = False
        for ws in wb.worksheets:
            rows = ws.iter_rows(values_only=True)
            header = [cell_text(c) for c in next(rows, ())]
            if "decision" not in header or "item_id" not in header:
                continue  # not a review sheet (the `about` sheet)
            found = True
            idx = _check_header(header, f"{path} sheet {ws.title!r}")
            for n, row in enumerate(rows, start=2):
                if row is None or not any(c is not None and cell_text(c) for c in row):
                    continue
                row = tuple(row) + (None,) * (len(header) - len(row))
                yield FileRow(ws.title, n, {c: cell_text(row[i]) for c, i in idx.items()})
        if not found:
            raise ReviewError(f"{path}: no review sheet in it (a sheet whose first row is the review columns)")
    finally:
        wb.close()
