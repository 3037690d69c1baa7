"""The trims `run_dbt` applies to dbt's per-node CPU (pipelines/dbt_trims.py, pipelines/dbt_events.py) change
nothing dbt does.

- Unread debug events: a debug event reaches no logger and no callback while every log is at info or above,
  the debug events `run_dbt` reads (NodeFinished) still arrive, a debug-level log gets every event, and
  dbt's own event manager is back after.
- Event messages made when read: an event made inside the trim makes its protobuf message only when read,
  then reads as dbt's own; one read after the trim ended still works. Every event of a `whsync build` (its
  log at debug: every event dbt fires), made by its class, is the message ParseDict makes, and the message
  sent to the logs is dbt's own but for its time.
- Compiled templates reused: the same text compiles once and renders each context's values; a parse-time
  environment (its own undefined type) and a named template compile as dbt does; after the trim, dbt's
  compile is back. Kept on disk, a text compiled by one process is not compiled by the next; a damaged store
  is as if empty, another dbt version has its own, and a store that cannot be written changes nothing.
- Macro namespaces laid out: the namespace is the one dbt's builder makes (every dict, every name, each
  callable's macro, context, node and stack), for a root package, a node in another package, an adapter's
  packages and names that collide across them.
- Context parts made once: a macro callable has the attributes dbt's three `__init__`s give it, in the same
  order; a context's `modules` hold the members dbt's give, each context its own dicts.
- FQN checks once per class: `isinstance(x, IsFQNResource)` in dbt's context providers answers as dbt's
  Protocol for nodes of a manifest, None and objects without the members, asks it once per class, and dbt's
  Protocol is back after.
- Flag sources without source text: a flag's default source is dbt's answer (the calling module, and past a
  frame of code that no module holds), found without any frame's source lines; an adapter's flags are
  dbt's by name and setting while dbt's default flags stay as they were (without the trim, a PostgreSQL
  adapter adds its flag to them); dbt's own are back after.
"""
from __future__ import annotations

import io
import marshal
from pathlib import Path
from types import SimpleNamespace

import jinja2
import pytest
from dbt.adapters.events.types import SQLQuery
from dbt.clients.jinja import MacroGenerator, MacroStack, get_rendered
from dbt.context.macros import MacroNamespaceBuilder
from dbt_common.clients import jinja as dbt_jinja
from dbt_common.events import base_types
from dbt_common.events.base_types import BaseEvent, EventLevel
from dbt_common.events.event_manager_client import get_event_manager
from dbt_common.events.functions import fire_event
from dbt_common.events.logger import LoggerConfig
from dbt_common.events.types import Note

from pipelines import dbt_events, dbt_templates, dbt_trims


def _events(level: EventLevel, monkeypatch=None, read: frozenset[str] | None = None) -> tuple[list[str], str]:
    """Fire one debug and one info event inside the skip, with one logger at `level` and one callback;
    returns (the names the callback saw, what the logger wrote)."""
    if read is not None:
        monkeypatch.setattr(dbt_events, "DEBUG_EVENTS_READ", read)
    seen: list[str] = []
    out = io.StringIO()
    with dbt_trims.trimmed():
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


def test_an_event_makes_its_message_when_read_and_reads_as_dbts_own(monkeypatch):
    made: list[str] = []
    dbt_init, parse, by_class = BaseEvent.__init__, base_types.ParseDict, dbt_events._made_by_its_class
    monkeypatch.setattr(base_types, "ParseDict", lambda fields, msg: (made.append(f"ParseDict {type(msg).__name__}"),
                                                                      parse(fields, msg))[1])
    monkeypatch.setattr(dbt_events, "_made_by_its_class", lambda event, args, kwargs: (
        made.append(type(event).__name__), by_class(event, args, kwargs))[1])
    with dbt_events.messages_when_read():
        skipped = SQLQuery(conn_name="c", sql="select 1", node_info={})
        read = SQLQuery(conn_name="c", sql="select 2", node_info={})
        assert made == []  # nothing made yet
        assert read.sql == "select 2" and read.conn_name == "c"
        assert made == ["SQLQuery"]  # by its class: no ParseDict
        later = Note(msg="read after the trim")
    assert made == ["SQLQuery"]  # the unread one never made its message
    assert BaseEvent.__init__ is dbt_init
    assert later.pb_msg.msg == "read after the trim" and later.to_dict()["msg"] == "read after the trim"
    assert read.to_dict() == SQLQuery(conn_name="c", sql="select 2", node_info={}).to_dict()  # dbt's own, outside
    read.sql = "select 3"  # dbt's setattr writes into the message
    assert read.pb_msg.sql == "select 3"
    assert "_whsync_unmade" in skipped.__dict__ and "pb_msg" not in skipped.__dict__


def test_the_same_text_compiles_once_and_renders_each_contexts_values(monkeypatch):
    # nothing compiled yet, whatever this process's earlier builds compiled or read from the store
    monkeypatch.setattr(dbt_templates, "COMPILED", dbt_templates.CompiledTemplates())
    compiled: list[str] = []
    jinja_compile = jinja2.Environment._compile
    monkeypatch.setattr(jinja2.Environment, "_compile", lambda self, source, filename: (
        compiled.append(source), jinja_compile(self, source, filename))[1])
    text = "select {{ a }} from {{ t | upper }} -- whsync trim test"
    with dbt_trims._compiled_templates_reused():
        first = get_rendered(text, {"a": 1, "t": "x"})
        second = get_rendered(text, {"a": 2, "t": "y"})
        native = get_rendered("{{ [a, 1] }}", {"a": 5}, native=True)
        assert len(compiled) == 2  # the text once (a text environment), the native one once
        get_rendered(text, {"a": 3, "t": "z"}, capture_macros=True)  # parse time: its own undefined
        assert len(compiled) == 3
        dbt_jinja.get_environment().compile(text, name="named")  # a named template: as dbt does
        assert len(compiled) == 4
    assert (first, second, native) == ("select 1 from X -- whsync trim test", "select 2 from Y -- whsync trim test",
                                       [5, 1])
    assert "compile" not in dbt_jinja.MacroFuzzEnvironment.__dict__  # dbt's compile is back
    get_rendered(text, {"a": 1, "t": "x"})
    assert len(compiled) == 5


def test_compiled_templates_are_kept_on_disk_for_the_next_process(monkeypatch, tmp_path):
    compiled: list[str] = []
    jinja_compile = jinja2.Environment._compile
    monkeypatch.setattr(jinja2.Environment, "_compile", lambda self, source, filename: (
        compiled.append(source), jinja_compile(self, source, filename))[1])
    monkeypatch.setattr(dbt_templates, "COMPILED", dbt_templates.CompiledTemplates())

    def new_process():  # what a new process holds: nothing compiled, no store read
        monkeypatch.setattr(dbt_templates, "COMPILED", dbt_templates.CompiledTemplates())

    text = "select {{ a }} from {{ t | upper }} -- whsync store test"
    with dbt_trims._compiled_templates_reused(tmp_path):
        assert get_rendered(text, {"a": 1, "t": "x"}) == "select 1 from X -- whsync store test"
    assert len(compiled) == 1
    [stored] = tmp_path.glob("compiled-*.marshal")
    written = stored.read_bytes()

    new_process()
    with dbt_trims._compiled_templates_reused(tmp_path):
        assert get_rendered(text, {"a": 2, "t": "y"}) == "select 2 from Y -- whsync store test"
        assert get_rendered("{{ [a, 1] }}", {"a": 5}, native=True) == [5, 1]  # new here: compiled
    assert len(compiled) == 2  # the stored text was not compiled again
    assert stored.read_bytes() != written  # the native template was added

    before = stored.stat()
    new_process()
    with dbt_trims._compiled_templates_reused(tmp_path):
        get_rendered(text, {"a": 3, "t": "z"})
        get_rendered("{{ [a, 1] }}", {"a": 5}, native=True)
    after = stored.stat()
    assert len(compiled) == 2  # both read from the store
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)  # nothing new: not written

    # a damaged store is as if empty: the text is compiled as without one, and the store is written again
    stored.write_bytes(b"\x00 not marshal")
    new_process()
    with dbt_trims._compiled_templates_reused(tmp_path):
        assert get_rendered(text, {"a": 4, "t": "w"}) == "select 4 from W -- whsync store test"
    assert len(compiled) == 3
    assert len(marshal.loads(stored.read_bytes())) == 1

    # another dbt (or Jinja, or Python) reads and writes another file
    from importlib import metadata

    monkeypatch.setattr(metadata, "version", lambda dist: "0.0.1" if dist == "dbt-core" else "1")
    assert dbt_templates.store_file(tmp_path) != stored

    # a store that cannot be written: compiled as without one, and no error
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the store's directory would be")
    new_process()
    with dbt_trims._compiled_templates_reused(blocked):
        assert get_rendered(text, {"a": 5, "t": "v"}) == "select 5 from V -- whsync store test"
    assert len(compiled) == 4


def _macro(package: str, name: str) -> SimpleNamespace:
    return SimpleNamespace(package_name=package, name=name, unique_id=f"macro.{package}.{name}")


# the shapes a manifest's macros take: dbt's global project and an adapter's macros that override it, the
# root project, an installed package, names in several of them, and a macro named like a package
MACROS = {
    "dbt": {n: _macro("dbt", n) for n in ("ref", "get_where_subquery", "rename_relation", "create_table_as",
                                          "dbt_duckdb", "my_pkg")},
    "dbt_duckdb": {n: _macro("dbt_duckdb", n) for n in ("duckdb__rename_relation", "create_table_as", "ref")},
    "whsync": {n: _macro("whsync", n) for n in ("generate_schema_name", "ref", "portable_now", "dbt")},
    "my_pkg": {n: _macro("my_pkg", n) for n in ("generate_schema_name", "surrogate_key", "whsync")},
}


def _shape(value):
    """A namespace member as something comparable: a callable as its macro and bindings, a dict by name."""
    if isinstance(value, MacroGenerator):
        return ("macro", value.macro.unique_id, id(value.context), id(value.node), id(value.stack))
    return {k: _shape(v) for k, v in value.items()}


@pytest.mark.parametrize("search", ["whsync", "my_pkg", "dbt"])
@pytest.mark.parametrize("node", [None, SimpleNamespace(unique_id="model.whsync.user")])
def test_a_laid_out_namespace_is_the_one_dbts_builder_makes(search, node):
    ctx, stack, internal = {"context": "of this node"}, MacroStack(), ["dbt_duckdb", "dbt"]

    def build():
        builder = MacroNamespaceBuilder("whsync", search, stack, internal, node)
        ns = builder.build_namespace(MACROS, ctx)
        flat: dict = {}
        flat.update(ns)  # as ManifestContext.to_dict flattens it
        return builder, ns, flat

    theirs = build()
    with dbt_trims._macro_namespaces_laid_out():
        mine, again = build(), build()
    assert again[2]["ref"] is not mine[2]["ref"]  # each context its own callables
    for (builder, ns, flat), (their_builder, their_ns, their_flat) in ((mine, theirs), (again, theirs)):
        assert _shape(flat) == _shape(their_flat) and set(ns) == set(their_ns) and len(ns) == len(their_ns)
        for name in ("local_namespace", "global_namespace", "global_project_namespace", "packages"):
            assert _shape(getattr(ns, name)) == _shape(getattr(their_ns, name)), name
        for name in ("internal_packages", "packages", "locals", "globals"):
            assert _shape(getattr(builder, name)) == _shape(getattr(their_builder, name)), name
        assert ns.get_from_package("my_pkg", "surrogate_key").macro is MACROS["my_pkg"]["surrogate_key"]
        assert ns.get_from_package("dbt", "create_table_as").macro is MACROS["dbt_duckdb"]["create_table_as"]
        # one callable per macro, shared by every dict that files it
        assert flat["portable_now"] is ns.packages["whsync"]["portable_now"]
    assert MacroNamespaceBuilder.build_namespace.__qualname__ == "MacroNamespaceBuilder.build_namespace"
    assert dbt_trims._layouts == {}  # nothing kept after the command


def test_query_results_are_typed_alike_by_shared_type_testers():
    from dbt_common.clients import agate_helper

    rows = [{"n": 1, "s": "005", "j": {"k": [1]}, "d": "2024-01-31", "f": 1.5, "b": True, "z": None}]
    names = list(rows[0])

    def typed(table):
        return [type(t).__name__ for t in table.column_types], [list(r.values()) for r in table.rows]

    theirs = typed(agate_helper.table_from_data_flat(rows, names)), agate_helper.empty_table().column_names
    with dbt_trims._type_testers_shared():
        mine = typed(agate_helper.table_from_data_flat(rows, names)), agate_helper.empty_table().column_names
        assert agate_helper.build_type_tester(["s"]) is agate_helper.build_type_tester(text_columns=["s"])
        assert agate_helper.build_type_tester(["s"]) is not agate_helper.build_type_tester(["s"], string_null_values=())
    assert mine == theirs
    assert theirs[0][0][:6] == ["Integer", "Text", "Text", "Text", "Number", "Boolean"]  # "005" stays text
    assert agate_helper.build_type_tester(["s"]) is not agate_helper.build_type_tester(["s"])  # dbt's own again


def test_context_parts_made_once_are_the_ones_dbt_makes():
    from dbt.clients.jinja import UnitTestMacroGenerator
    from dbt.context import base

    macro, ctx, node, stack = MACROS["whsync"]["ref"], {"a": 1}, SimpleNamespace(unique_id="model.whsync.user"), MacroStack()
    theirs = [MacroGenerator(macro, ctx, node, stack), MacroGenerator(macro), base.get_context_modules()]
    with dbt_trims._context_parts_made_once():
        mine = [MacroGenerator(macro, ctx, node, stack), MacroGenerator(macro), base.get_context_modules()]
        again = base.get_context_modules()
        unit = UnitTestMacroGenerator(mine[0], "mocked")
    for a, b in zip(mine[:2], theirs[:2]):
        assert list(vars(a).items()) == list(vars(b).items())  # same attributes, same values, same order
    assert (unit.macro, unit.context, unit.node, unit.stack, unit.call_return_value) == (macro, ctx, node, stack, "mocked")
    modules, their_modules = mine[2], theirs[2]
    assert {k: set(v) for k, v in modules.items()} == {k: set(v) for k, v in their_modules.items()}
    for name in ("pytz", "datetime", "re"):
        assert modules[name] == their_modules[name]
    assert list(modules["itertools"]["chain"]("ab", "c")) == ["a", "b", "c"]  # dbt's wrapper, deprecation and all
    assert again is not modules and all(again[k] is not modules[k] for k in modules)  # each context its own dicts
    again["re"]["compile"] = None
    assert modules["re"]["compile"] is not None
    # dbt's own after the command
    assert MacroGenerator.__init__ is not dbt_trims._macro_generator_init
    assert base.get_context_modules() is not base.get_context_modules()


def test_every_event_of_a_build_is_the_message_dbt_makes(monkeypatch, tmp_path):
    """A whole `whsync build` (dbt's log at debug, unit tests included): each event made by its class equals
    the one dbt's ParseDict makes from the same fields, and each message sent to the logs and callbacks equals
    dbt's `msg_from_base_event` of the same event, its time aside."""
    from google.protobuf.json_format import ParseDict

    from pipelines.benchling.simulator import DEMO_API_KEY, BenchlingSimulator, Tenant
    from pipelines.benchling.spec import BenchlingConfig, benchling_plan
    from pipelines.progress import Progress
    from pipelines.sync import build_only, sync
    from pipelines.targets import resolve_target

    events, infos, by_dbt = [], [], []
    by_class = dbt_events._made_by_its_class

    def record(event, args, kwargs):  # noqa: ANN001, ANN202
        done = by_class(event, args, kwargs)
        (events if done else by_dbt).append((event, dict(kwargs)))
        return done

    monkeypatch.setattr(dbt_events, "_made_by_its_class", record)
    set_directly = dbt_events._info_set_directly

    def recording(dbt_msg):  # noqa: ANN001, ANN202
        mine = set_directly(dbt_msg)

        def msg_from_base_event(event, level=None):  # noqa: ANN001, ANN202
            got = mine(event, level)
            infos.append((got, dbt_msg(event, level)))
            return got

        return msg_from_base_event

    monkeypatch.setattr(dbt_events, "_info_set_directly", recording)
    target = resolve_target(duckdb=tmp_path / "w.duckdb")
    with BenchlingSimulator(Tenant.load(Path(__file__).parent / "fixtures" / "benchling_tricky.json"),
                            api_key=DEMO_API_KEY, rate_limit="off") as sim:
        sync(plans=[benchling_plan(BenchlingConfig(sim.base_url, api_key=DEMO_API_KEY))], target=target,
             progress=Progress(quiet=True), build=False)
    result = build_only(target=target, progress=Progress(quiet=True))
    assert result.models > 30 and result.tests > 30 and result.unit_tests > 0

    kinds = {type(e).__name__ for e, _ in events}
    assert {type(e).__name__ for e, _ in by_dbt} <= {"Formatting"}  # its positional text: dbt's own __init__
    assert len(events) > 1000 and {"SQLQuery", "LogStartLine", "LogTestResult", "NodeFinished"} <= kinds, kinds
    for event, kwargs in events:
        for key in ("base_msg", "msg"):
            if key in kwargs:
                kwargs[key] = str(kwargs[key])
        assert event.pb_msg == ParseDict(kwargs, type(event.pb_msg)()), type(event).__name__
    assert len(infos) > 1000
    for got, dbts in infos:
        assert got.info.ts.seconds > 0
        got.info.ts.CopyFrom(dbts.info.ts)
        assert got == dbts, got.info.name


def test_fqn_checks_answer_as_dbts_protocol_once_per_class(monkeypatch):
    from dbt.config import IsFQNResource as dbt_protocol
    from dbt.context import providers

    from pipelines.dbt_trims import _fqn_checks_once_per_class

    asked: list[type] = []

    class Counted(type):
        def __instancecheck__(cls, obj):
            asked.append(type(obj))
            return isinstance(obj, dbt_protocol)

    monkeypatch.setattr(providers, "IsFQNResource", Counted("Counted", (), {}))
    counted = providers.IsFQNResource

    class Node:  # the members dbt's Protocol names, as a node's dataclass fields
        def __init__(self, name):
            self.fqn, self.resource_type, self.package_name = ["whsync", name], "model", "whsync"

    class Missing:
        def __init__(self):
            self.fqn, self.resource_type = ["whsync", "x"], "model"

    things = [Node("a"), Node("b"), Missing(), Missing(), None, SimpleNamespace(fqn=[], resource_type="model",
                                                                                package_name="p")]
    expected = [isinstance(t, dbt_protocol) for t in things]
    assert expected == [True, True, False, False, False, True]
    with _fqn_checks_once_per_class():
        assert providers.IsFQNResource is not counted
        assert [isinstance(t, providers.IsFQNResource) for t in things + things] == expected + expected
    assert asked == [Node, Missing, type(None), SimpleNamespace]  # once per class
    assert providers.IsFQNResource is counted


def _rendered_sources() -> list[str]:
    """The default sources of two flags without one, made from this module and from code no module holds."""
    from dbt_common.behavior_flags import Behavior

    flags = [{"name": "whsync_a", "default": False, "docs_url": ""}, {"name": "whsync_b", "default": True,
                                                                      "docs_url": ""}]
    made = [Behavior(flags, {"whsync_b": False})]
    exec(compile("made.append(Behavior(flags, {}))", "<whsync-no-module>", "exec"),
         {"made": made, "Behavior": Behavior, "flags": flags})
    return [f._behavior_change_event.flag_source for b in made for f in b._flags]


def test_flag_sources_are_dbts_without_reading_source_lines(monkeypatch):
    import inspect

    from dbt.adapters.base import impl
    from dbt.adapters.postgres import PostgresAdapter

    from pipelines.dbt_trims import _flag_sources_without_source_text

    dbts = _rendered_sources()
    assert dbts == [__name__] * 4  # the exec'd code has no module: dbt names the next frame's
    defaults = list(impl.DEFAULT_BASE_BEHAVIOR_FLAGS)

    def adapter():
        made = PostgresAdapter.__new__(PostgresAdapter)  # the setter reads only the config's flags
        made.config = SimpleNamespace(flags={"postgres_skip_autocommit_transaction_statements": True})
        made.behavior = impl.DEFAULT_BASE_BEHAVIOR_FLAGS
        return made

    real, read = inspect.getframeinfo, []
    monkeypatch.setattr(inspect, "getframeinfo", lambda *a, **k: read.append(a) or real(*a, **k))
    with _flag_sources_without_source_text():
        assert _rendered_sources() == dbts
        trimmed = [adapter(), adapter()]
    assert read == []  # no frame's source lines read
    assert impl.DEFAULT_BASE_BEHAVIOR_FLAGS == defaults
    names = [f["name"] for f in defaults] + ["postgres_skip_autocommit_transaction_statements"]
    for made in trimmed:
        assert [f.name for f in made.behavior._flags] == names
        assert made.behavior.postgres_skip_autocommit_transaction_statements.no_warn is True
        assert made.behavior.enable_truthy_nulls_equals_macro.no_warn is False
    untrimmed = adapter()  # dbt's own setter: the module's defaults grow by the adapter's flag
    try:
        assert [f.name for f in untrimmed.behavior._flags] == names
        assert [f["name"] for f in impl.DEFAULT_BASE_BEHAVIOR_FLAGS] == names
    finally:
        impl.DEFAULT_BASE_BEHAVIOR_FLAGS[:] = defaults
    assert _rendered_sources() == dbts and len(read) > 10  # dbt's own is back: every frame's source lines
