"""dbt's events, made for less CPU while `run_dbt` (pipelines/dbt.py) runs a command: the first two trims of
pipelines/dbt_trims.py (see there: what each saves, and that each leaves what dbt does unchanged).

- `unread_debug_skipped`: a debug event that no log writes and `run_dbt` does not read is dropped before dbt
  formats it.
- `messages_when_read`: an event's protobuf message is made when first read, by its class from its fields
  (`_made_by_its_class`), and the message sent to the logs has its info set field by field
  (`_info_set_directly`), where dbt converts both dicts with protobuf's pure-Python ParseDict.
"""
from __future__ import annotations

import contextlib
import threading
from typing import Any, Callable, Iterator

# the debug events `run_dbt`'s callback reads: every other debug event is skipped when no log wants debug lines
DEBUG_EVENTS_READ = frozenset({"NodeFinished"})


@contextlib.contextmanager
def unread_debug_skipped() -> Iterator[None]:
    """A sync's build logs at info (SYNC_BUILD_ARGS, --quiet), so its debug events are made for nobody. During
    the call, dbt's event manager skips a debug event that no log writes and `run_dbt` does not read; with a
    debug-level log (`whsync build` keeps dbt's default) every event is written as before."""
    from dbt_common.events.base_types import EventLevel
    from dbt_common.events.event_manager import EventManager
    from dbt_common.events.event_manager_client import ctx_set_event_manager, get_event_manager

    debug = (EventLevel.DEBUG, EventLevel.TEST)

    class SkipUnreadDebug(EventManager):
        def fire_event(self, e, level=None, node=None, force_warn_or_error_handling=False):  # noqa: ANN001
            if (not force_warn_or_error_handling and (level or e.level_tag()) in debug
                    and type(e).__name__ not in DEBUG_EVENTS_READ
                    and not any(logger.level in debug for logger in self.loggers)):
                return
            super().fire_event(e, level, node, force_warn_or_error_handling)

    before = get_event_manager()
    mine = SkipUnreadDebug()
    mine.loggers, mine.callbacks = list(before.loggers), list(before.callbacks)  # until dbt sets up its own
    ctx_set_event_manager(mine)
    try:
        yield
    finally:
        ctx_set_event_manager(before)


_UNMADE = "_whsync_unmade"  # an event's fields, kept until its message is first read
_MADE_INIT: Any = None  # dbt's BaseEvent.__init__, which makes the message (set by _install_message_reads)
_making = threading.Lock()


def _make_message(event: Any) -> None:
    """Make the protobuf message of an event made inside `messages_when_read`, once, from its fields."""
    fields = event.__dict__
    if _UNMADE in fields:
        with _making:
            pending = fields.pop(_UNMADE, None)
            if pending is not None:
                args, kwargs = pending
                if not _made_by_its_class(event, args, kwargs):
                    _MADE_INIT(event, *args, **kwargs)


def _made_by_its_class(event: Any, args: tuple, kwargs: dict) -> bool:
    """dbt's BaseEvent.__init__ (its fields as it prepares them) with the message made by its protobuf class
    from the fields, instead of by protobuf's pure-Python ParseDict. False, having made nothing, where the class
    refuses them (a field as JSON text, such as a time; a field the message lacks): dbt's own then makes it."""
    name = type(event).__name__
    if args or name == "Formatting":
        return False
    msg_cls = getattr(event.PROTO_TYPES_MODULE, name, None)
    if msg_cls is None:
        return False
    fields = dict(kwargs)
    for key in ("base_msg", "msg"):
        if key in fields:
            fields[key] = str(fields[key])
    try:
        message = msg_cls(**_times_made(msg_cls.DESCRIPTOR, fields))
    except Exception:  # noqa: BLE001 - dbt's ParseDict decides, as it always did
        return False
    object.__setattr__(event, "pb_msg", message)
    return True


def _times_made(descriptor: Any, fields: dict) -> dict:
    """`fields` for a message of `descriptor`, each time given as JSON text (a node's timing, as dbt's
    `to_msg_dict` writes it) made a protobuf Timestamp as ParseDict makes it (`FromJsonString`), in nested
    messages too; everything else as given (the class takes Struct and Value as dicts)."""
    out = {}
    for key, value in fields.items():
        field = descriptor.fields_by_name.get(key)
        kind = field.message_type if field is not None else None
        if kind is None or value is None or kind.GetOptions().map_entry \
                or (kind.full_name.startswith("google.protobuf.") and kind.full_name != _TIMESTAMP):
            out[key] = value
        elif field.is_repeated and isinstance(value, list):
            out[key] = [_time_made(kind, v) for v in value]
        else:
            out[key] = _time_made(kind, value)
    return out


_TIMESTAMP = "google.protobuf.Timestamp"


def _time_made(kind: Any, value: Any) -> Any:
    """A value for a message field of type `kind`: a time as JSON text made a Timestamp, a dict's times made."""
    if kind.full_name == _TIMESTAMP and isinstance(value, str):
        from google.protobuf.timestamp_pb2 import Timestamp

        stamp = Timestamp()
        stamp.FromJsonString(value)
        return stamp
    return _times_made(kind, value) if isinstance(value, dict) else value


def _install_message_reads() -> None:
    """Make BaseEvent's attribute access make a pending message first. Installed once and kept: an event made
    inside the trim may be read after it (dbt keeps some), and without a pending message these behave
    exactly as dbt's own `__getattr__`/`__setattr__`, which they call."""
    global _MADE_INIT
    from dbt_common.events.base_types import BaseEvent

    if getattr(BaseEvent, "_whsync_reads_make", False):
        return
    _MADE_INIT = BaseEvent.__init__
    dbt_getattr, dbt_setattr = BaseEvent.__getattr__, BaseEvent.__setattr__

    def __getattr__(self, key):  # noqa: ANN001, N807 - only called when plain lookup fails (no message yet)
        _make_message(self)
        return dbt_getattr(self, key)

    def __setattr__(self, key, value):  # noqa: ANN001, N807
        _make_message(self)
        dbt_setattr(self, key, value)

    BaseEvent.__getattr__, BaseEvent.__setattr__ = __getattr__, __setattr__
    BaseEvent._whsync_reads_make = True


@contextlib.contextmanager
def messages_when_read() -> Iterator[None]:
    """During the call, a dbt event keeps its fields and makes its protobuf message when first read, by its
    class (`_made_by_its_class`); the message the event manager sends to logs and callbacks is made alike
    (`_info_set_directly`)."""
    from dbt_common.events import event_manager
    from dbt_common.events.base_types import BaseEvent

    _install_message_reads()

    def __init__(self, *args, **kwargs):  # noqa: ANN001, N807
        object.__setattr__(self, _UNMADE, (args, kwargs))

    dbt_init, BaseEvent.__init__ = BaseEvent.__init__, __init__
    dbt_msg = event_manager.msg_from_base_event
    event_manager.msg_from_base_event = _info_set_directly(dbt_msg)
    try:
        yield
    finally:
        BaseEvent.__init__ = dbt_init
        event_manager.msg_from_base_event = dbt_msg


def _info_set_directly(dbt_msg: Callable[..., Any]) -> Callable[..., Any]:
    """dbt's `msg_from_base_event` (base_types), its EventInfo set field by field instead of by ParseDict from a
    dict of the same values, made in the same order. Where a value does not fit its field, dbt's own makes the
    whole message, as it always did."""
    from dbt_common.events.base_types import (get_global_metadata_vars, get_invocation_id, get_json_string_utcnow,
                                              get_pid, get_thread_name)

    def msg_from_base_event(event, level=None):  # noqa: ANN001, ANN202
        msg_cls = getattr(event.PROTO_TYPES_MODULE, f"{type(event).__name__}Msg")
        msg_level = level.value if level else event.level_tag().value
        assert msg_level is not None
        msg, invocation_id, extra = event.message(), get_invocation_id(), get_global_metadata_vars()
        ts, pid, thread, code = get_json_string_utcnow(), get_pid(), get_thread_name(), event.code()
        new_event = msg_cls()
        info = new_event.info
        try:
            info.level, info.msg, info.invocation_id = msg_level, msg, invocation_id
            info.extra.update(extra)
            info.ts.FromJsonString(ts)
            info.pid, info.thread, info.code, info.name = pid, thread, code, type(event).__name__
        except Exception:  # noqa: BLE001 - a value ParseDict would take or refuse in its own way
            return dbt_msg(event, level)
        new_event.data.CopyFrom(event.pb_msg)
        return new_event

    return msg_from_base_event
