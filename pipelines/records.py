"""The contract of a raw table's rows, checked before dlt sees them: a record out of contract fails the
sync naming the record, for every source (never a bare ``KeyError``, never a silent dlt variant column
such as ``name__v_bigint``)."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Callable, Iterable, Mapping

from .errors import WhsyncError


class MalformedRecordError(WhsyncError, ValueError):
    """An API object that breaks the raw table's contract (e.g. no `id`, or a field of the wrong type)."""


def describe(obj: Any) -> str:
    text = repr(obj)
    return text if len(text) <= 200 else text[:200] + "…"


def _is_timestamp(v: Any) -> bool:
    if isinstance(v, datetime):
        return True
    try:
        datetime.fromisoformat(v)
    except (TypeError, ValueError):
        return False
    return True


FITS: dict[str, Callable[[Any], bool]] = {
    "text": lambda v: isinstance(v, str),
    "bool": lambda v: isinstance(v, bool),
    "bigint": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "json": lambda v: isinstance(v, (dict, list)),
    "timestamp": _is_timestamp,
}
TYPE_NAMES = {"text": "a string", "bool": "a boolean", "bigint": "an integer", "json": "an object or list",
              "timestamp": "an ISO 8601 time"}


def checked_rows(
    source: str, table: str, records: Iterable[Any], columns: Mapping[str, Mapping[str, Any]],
    make_row: Callable[[dict[str, Any]], dict[str, Any]],
) -> list[dict[str, Any]]:
    """``make_row(record)`` for each API record, each row held to the dlt ``columns`` declared for ``table``:
    a column declared not nullable needs a value (a non-empty one for text: it is a key or a name), and
    every value has its column's type. Raises MalformedRecordError naming ``source``, ``table``, the column
    and the record."""
    rows = []
    a = "an" if table[:1] in "aeiou" else "a"
    for record in records:
        if not isinstance(record, dict):
            raise MalformedRecordError(f"{source} returned {a} {table} item that is not an object: {describe(record)}")
        row = make_row(record)
        for name, spec in columns.items():
            v, kind = row.get(name), spec["data_type"]
            if v is None or v == "" and kind == "text":
                if not spec.get("nullable", True):
                    raise MalformedRecordError(
                        f"{source} returned {a} {table} record without a valid `{name}`: {describe(record)}")
            elif not FITS[kind](v):
                raise MalformedRecordError(
                    f"{source} returned {a} {table} record whose `{name}` is not {TYPE_NAMES[kind]}: {describe(record)}")
        rows.append(row)
    return rows
