"""`run_dbt` skips the debug events nobody reads (pipelines/dbt.py `_unread_debug_skipped`): a debug event
reaches no logger and no callback while every log is at info or above, the debug events `run_dbt` reads
(NodeFinished) still arrive, a debug-level log gets every event, and dbt's own event manager is back after."""
from __future__ import annotations

import io

from dbt.adapters.events.types import SQLQuery
from dbt_common.events.base_types import EventLevel
from dbt_common.events.event_manager_client import get_event_manager
from dbt_common.events.functions import fire_event
from dbt_common.events.logger import LoggerConfig
from dbt_common.events.types import Note

from pipelines import dbt as whsync_dbt


def _events(level: EventLevel, monkeypatch=None, read: frozenset[str] | None = None) -> tuple[list[str], str]:
    """Fire one debug and one info event inside the skip, with one logger at `level` and one callback;
    returns (the names the callback saw, what the logger wrote)."""
    if read is not None:
        monkeypatch.setattr(whsync_dbt, "_DEBUG_EVENTS_READ", read)
    seen: list[str] = []
    out = io.StringIO()
    with whsync_dbt._unread_debug_skipped():
        mgr = get_event_manager()
        mgr.loggers, mgr.callbacks = [], [lambda msg: seen.append(msg.info.name)]  # as dbt's setup leaves them
        mgr.add_logger(LoggerConfig(name="whsync-test", level=level, output_stream=out))
        fire_event(SQLQuery(conn_name="c", sql="select 42 as answer", node_info={}))
        fire_event(Note(msg="model x"))
    return seen, out.getvalue()


def test_a_debug_event_no_log_writes_is_skipped_and_info_events_are_not():
    before = get_event_manager()
    seen, written = _events(EventLevel.INFO)
    assert seen == ["Note"]
    assert "select 42" not in written and "model x" in written
    assert get_event_manager() is before  # dbt's manager is back


def test_a_debug_event_run_dbt_reads_still_arrives(monkeypatch):
    seen, _ = _events(EventLevel.INFO, monkeypatch, read=frozenset({"SQLQuery"}))
    assert seen == ["SQLQuery", "Note"]


def test_a_debug_level_log_gets_every_event():
    seen, written = _events(EventLevel.DEBUG)
    assert seen == ["SQLQuery", "Note"]
    assert "select 42" in written and "model x" in written
