"""CPU that dbt spends on every node for nobody, trimmed while `run_dbt` (pipelines/dbt.py) runs a command.

A sync's build is about 170 nodes, and dbt's own Python work per node (not the SQL) is most of a build's CPU.
Each trim below leaves what dbt does unchanged: the same SQL, the same results, the same log lines. They are
applied inside `run_dbt`'s lock only and undone after it (`trimmed()`). One piece stays: once installed,
BaseEvent's attribute reads make a pending message first, and for an event made outside the trims (which
has none) they are dbt's own.

1. `dbt_events.unread_debug_skipped` (pipelines/dbt_events.py): a debug event that no log writes and
   `run_dbt` does not read is dropped before dbt formats it (one or more per SQL statement).
2. `dbt_events.messages_when_read`: dbt turns every event's fields into a protobuf message when the event is
   made, before anyone decides to write it. The message is made when first read instead, so a skipped
   event never makes one; any read (a log, a callback, a field) makes it as before. It is made by its
   protobuf class from the fields (in C), and the message sent to the logs its info set field by field,
   where dbt converts both dicts with protobuf's ParseDict, field by field in Python; what either way
   refuses, dbt's own makes.
3. `_compiled_templates_reused`: dbt compiles a node's Jinja (its SQL, a test's arguments such as
   `{{ get_where_subquery(ref('user')) }}`) from text each time, in a new environment that is configured
   alike every time. Jinja's compiled code does not depend on the environment instance (it is given the
   environment when it runs, as with Jinja's own bytecode cache), so the code compiled from the same text
   in an environment of the same class and settings is reused. The compiled code is also kept on disk in
   whsync's cache (`compiled_store`; pipelines/dbt_templates.py), so a new process (each `whsync sync`)
   does not compile the ~240 templates of a build again (about 0.35 s of its first build's CPU).
4. `_macro_namespaces_laid_out`: every node's context (twice per node, and once per adapter call such as
   `adapter.rename_relation`) gets a callable for each of the ~530 macros of the manifest, filed by package,
   then flattened by a search through five dicts per name. Where each macro goes, and what each name
   resolves to, depend only on the manifest's macros, the root and node's packages and the adapter: that
   layout is worked out once per command, and each context makes its callables and fills the dicts from it.
   When the command ends, those contexts are emptied, so that they and their callables are freed by their
   reference counts rather than left to the cyclic collector.
5. `_type_testers_shared`: dbt types every query's result with an agate TypeTester, made anew for each
   statement (an empty table for a statement that returns nothing), and each one makes date and datetime
   types that build parsedatetime's locale tables. dbt already shares one TypeTester between every query
   and thread (agate_helper.DEFAULT_TYPE_TESTER); the others are shared alike, one per set of text columns.
6. `_context_parts_made_once`: each context (~270 in a Benchling sync's build) also builds its `modules`
   (dicts of pytz, datetime, re and itertools members, wrapping each itertools function anew) and makes each
   of its ~530 macro callables through three `__init__`s that each set one or two attributes. `modules` is
   built once per command and each context gets its own copy of the dicts; a callable is made by one
   `__init__` that sets the same attributes in the same order.
7. `_fqn_checks_once_per_class`: each context's `var` asks whether its node is an `IsFQNResource`, dbt's
   runtime-checkable Protocol, whose check looks each member up statically through the node's class hierarchy
   (~0.1 ms, ~340 times per Benchling resync). A node class's instances all have the members (dataclass
   fields), so the answer is dbt's own, asked once per class.
8. `_flag_sources_without_source_text`: each adapter dbt makes (one or more per command) renders its behavior
   flags, and for each flag dbt names the module that made it with `inspect.stack()`, which reads the source
   lines of every frame up to the process's first (~9 ms a flag under pytest; a fresh clone's `make test`
   took 565 busy core-seconds with this trim, 572 without, back to back). The module is the same
   `inspect.getmodule` answer for the same frames, without their source text. And dbt's setter extends the
   module-level list of default flags it is given, so each PostgreSQL adapter added its flag to the defaults
   of every later adapter of the process (a long-lived process rendered ever more flags); it is given a
   copy. The flags an adapter answers by name are the same: dbt answers the first of that name, and each
   copy was rendered from the same flag and the adapter's own settings.

Measured by `python -m bench --scenarios 10` (bench/dbt_trims.py): the CPU of resyncs with and without them.
"""
from __future__ import annotations

import contextlib
import operator
import threading
from pathlib import Path
from typing import Any, Callable, Iterator

from . import collector, dbt_events


@contextlib.contextmanager
def trimmed(compiled_store: Path | None = None) -> Iterator[None]:
    """Every trim of this module, for the duration of one dbt command. `compiled_store`: the directory that
    keeps compiled templates between processes (`_compiled_templates_reused`); None keeps them in memory only."""
    with (dbt_events.unread_debug_skipped(), dbt_events.messages_when_read(),
          _compiled_templates_reused(compiled_store), _macro_namespaces_laid_out(), _type_testers_shared(),
          _context_parts_made_once(), _fqn_checks_once_per_class(), _flag_sources_without_source_text()):
        yield


@contextlib.contextmanager
def _compiled_templates_reused(store: Path | None = None) -> Iterator[None]:
    """During the call, dbt's Jinja environments reuse the code compiled from the same text by an environment
    of the same class, undefined type and extensions (pipelines/dbt_templates.py keeps it). Only a plain
    `compile(source)` is reused (what dbt's `get_template` calls); a named template, raw output, dbt's macro
    debugging (which writes each compiled source to a file) or a parse-time environment (its own undefined
    type per node) compile as before. `store`: a directory where the compiled code is read from before the
    call (once per process) and written to after it when the call compiled something new."""
    import jinja2
    from dbt_common.clients import jinja as dbt_jinja

    from . import dbt_templates

    classes = (dbt_jinja.MacroFuzzEnvironment, dbt_jinja.NativeSandboxEnvironment)
    saved = {cls: cls.__dict__.get("compile") for cls in classes}
    if store is not None:
        dbt_templates.COMPILED.read(store)

    def compile(self, source, name=None, filename=None, raw=False, defer_init=False):  # noqa: ANN001, A001
        if (name is not None or filename is not None or raw or defer_init or not isinstance(source, str)
                or self.undefined is not jinja2.Undefined or dbt_jinja.MACRO_DEBUGGING):
            return jinja2.Environment.compile(self, source, name, filename, raw, defer_init)
        compiled = dbt_templates.COMPILED
        key = dbt_templates.key(self, source)
        code = compiled.get(key)
        if code is None:
            code = jinja2.Environment.compile(self, source)
            compiled.put(key, code)
        return code

    for cls in classes:
        cls.compile = compile
    try:
        yield
    finally:
        for cls, own in saved.items():
            if own is None:
                del cls.compile
            else:
                cls.compile = own
        if store is not None:
            dbt_templates.COMPILED.write(store)


class _Layout:
    """Where each macro of `macros_by_package` goes in the namespace a MacroNamespaceBuilder builds for one
    root package, node package and adapter: indexes into `macros` for each dict, and for each flattened
    name the dict or the macro that dbt's MacroNamespace search resolves it to."""

    def __init__(self, source: dict, root: str, search: str, internal_order: list[str]) -> None:
        from dbt.include.global_project import PROJECT_NAME as GLOBAL_PROJECT_NAME

        self.source = source  # held, so that its id is not reused while the layout is cached
        self.size = sum(map(len, source.values()))
        internal_names = set(internal_order)
        self.macros: list[Any] = []
        self.internal: dict[str, dict[str, int]] = {}
        self.packages: dict[str, dict[str, int]] = {}
        self.locals: dict[str, int] = {}
        self.globals: dict[str, int] = {}
        self.duplicate = False
        for package in source.values():
            for macro in package.values():
                i = len(self.macros)
                self.macros.append(macro)
                hierarchy = self.internal if macro.package_name in internal_names else self.packages
                names = hierarchy.setdefault(macro.package_name, {})
                if macro.name in names:
                    self.duplicate = True  # dbt's own builder raises its DuplicateMacroNameError
                names[macro.name] = i
                if hierarchy is self.packages:
                    if macro.package_name == search:
                        self.locals[macro.name] = i
                    elif macro.package_name == root:
                        self.globals[macro.name] = i
        self.global_project: dict[str, int] = {}
        for pkg in reversed(internal_order):
            if pkg in self.internal:
                self.global_project.update(self.internal[pkg])
        # MacroNamespace's search order: the node's package, the root package, the packages by name, `dbt`,
        # then the internal packages' macros; the first that has the name wins
        order: list[tuple[str, dict]] = [("macro", self.locals), ("macro", self.globals), ("package", self.packages),
                                         ("global_project", {GLOBAL_PROJECT_NAME: None}),
                                         ("macro", self.global_project)]
        flat_macros: dict[str, int] = {}
        self.flat_packages: list[str] = []
        self.flat_global_project: list[str] = []
        for name in {n for _kind, d in order for n in d}:
            kind, found = next((kind, d[name]) for kind, d in order if name in d)
            if kind == "macro":
                flat_macros[name] = found
            else:
                (self.flat_packages if kind == "package" else self.flat_global_project).append(name)
        # each dict as its names and a picker of their callables from the list of made ones (C-speed filling)
        self.plan = {"internal": {p: _plan(d) for p, d in self.internal.items()},
                     "packages": {p: _plan(d) for p, d in self.packages.items()},
                     "locals": _plan(self.locals), "globals": _plan(self.globals),
                     "global_project": _plan(self.global_project), "flat": _plan(flat_macros)}


def _plan(names: dict[str, int]) -> tuple[tuple[str, ...], Callable[[list], tuple]]:
    """A dict of name -> index as (names, picker): `dict(zip(names, picker(made)))` is that dict of made objects."""
    keys, idx = tuple(names), tuple(names.values())
    if len(idx) == 1:
        (i,) = idx
        return keys, lambda made: (made[i],)
    return keys, (operator.itemgetter(*idx) if idx else lambda made: ())


_layouts: dict[tuple, _Layout] = {}
_layouts_lock = threading.Lock()


@contextlib.contextmanager
def _macro_namespaces_laid_out() -> Iterator[None]:
    """During the call, MacroNamespaceBuilder.build_namespace fills its dicts from a layout made once per
    manifest, root package, node package and adapter, and the namespace it returns flattens from the same
    layout. The callables are dbt's MacroGenerator, bound to the same context, node and macro stack."""
    from dbt.clients.jinja import MacroGenerator
    from dbt.context.macros import MacroNamespace, MacroNamespaceBuilder

    class LaidOutNamespace(MacroNamespace):
        """dbt's MacroNamespace, with its flattening (`dict.update(namespace)` in ManifestContext.to_dict)
        read from the layout instead of searched name by name."""

        def __init__(self, flat: dict[str, Any], **dicts: Any) -> None:
            super().__init__(**dicts)
            self._flat = flat

        def keys(self):  # noqa: ANN201
            return self._flat.keys()

        def __iter__(self):  # noqa: ANN204
            return iter(self._flat)

        def __len__(self) -> int:
            return len(self._flat)

        def __getitem__(self, key: str) -> Any:
            return self._flat[key]

    dbt_build = MacroNamespaceBuilder.build_namespace
    contexts: list[dict] = []  # every context given callables during the command (cleared after it: see below)

    def build_namespace(self, macros_by_package, ctx):  # noqa: ANN001, ANN202
        contexts.append(ctx)
        key = (id(macros_by_package), self.root_package, self.search_package, tuple(self.internal_package_names_order))
        with _layouts_lock:
            layout = _layouts.get(key)
            if layout is None or layout.source is not macros_by_package \
                    or layout.size != sum(map(len, macros_by_package.values())):
                layout = _layouts[key] = _Layout(macros_by_package, self.root_package, self.search_package,
                                                 list(self.internal_package_names_order))
        if layout.duplicate:
            return dbt_build(self, macros_by_package, ctx)
        node, stack = self.node, self.thread_ctx
        made = [MacroGenerator(macro, ctx, node, stack) for macro in layout.macros]
        plan = layout.plan
        self.internal_packages = {p: dict(zip(n, pick(made))) for p, (n, pick) in plan["internal"].items()}
        self.packages = {p: dict(zip(n, pick(made))) for p, (n, pick) in plan["packages"].items()}
        (n, pick) = plan["locals"]
        self.locals = dict(zip(n, pick(made)))
        (n, pick) = plan["globals"]
        self.globals = dict(zip(n, pick(made)))
        (n, pick) = plan["global_project"]
        global_project = dict(zip(n, pick(made)))
        (n, pick) = plan["flat"]
        flat = dict(zip(n, pick(made)))
        for name in layout.flat_packages:
            flat[name] = self.packages[name]
        for name in layout.flat_global_project:
            flat[name] = global_project
        return LaidOutNamespace(flat, global_namespace=self.globals, local_namespace=self.locals,
                                global_project_namespace=global_project, packages=self.packages)

    MacroNamespaceBuilder.build_namespace = build_namespace
    try:
        yield
    finally:
        MacroNamespaceBuilder.build_namespace = dbt_build
        with _layouts_lock:
            _layouts.clear()
        # Each context and its ~530 callables (each holding the context) are a reference cycle, garbage once
        # the command ends: ~370,000 objects per sync's build that only the cyclic collector frees, walking
        # them all (~0.2 s of CPU). Emptied, they are freed by their reference counts at once, and the
        # collector walks a third as many. Left as they are when the collector will not run again in this
        # process (collector.off_until_exit: the process exits, freeing nothing one by one).
        if collector.collects_later():
            for ctx in contexts:
                ctx.clear()
        contexts.clear()


@contextlib.contextmanager
def _type_testers_shared() -> Iterator[None]:
    """During the call, dbt's agate_helper gives out one TypeTester per (text columns, null strings) and an empty
    table typed by one shared TypeTester (what agate makes for a table given no column types). A TypeTester
    keeps no state between the tables it types (`run` works on its own copies)."""
    import agate
    from dbt_common.clients import agate_helper

    dbt_tester, dbt_empty = agate_helper.build_type_tester, agate_helper.empty_table
    testers: dict[tuple, Any] = {}
    untyped = agate.TypeTester()

    def build_type_tester(text_columns, string_null_values=("null", "")):  # noqa: ANN001, ANN202
        key = (frozenset(text_columns), None if string_null_values is None else tuple(string_null_values))
        tester = testers.get(key)
        if tester is None:
            tester = testers[key] = dbt_tester(text_columns, string_null_values=string_null_values)
        return tester

    def empty_table():  # noqa: ANN202
        return agate.Table(rows=[], column_types=untyped)

    agate_helper.build_type_tester, agate_helper.empty_table = build_type_tester, empty_table
    try:
        yield
    finally:
        agate_helper.build_type_tester, agate_helper.empty_table = dbt_tester, dbt_empty


def _macro_generator_init(self, macro, context=None, node=None, stack=None) -> None:  # noqa: ANN001
    """dbt's MacroGenerator.__init__ and its bases' (CallableMacroGenerator, BaseMacroGenerator) in one."""
    self.context = context
    self.macro = macro
    self.node = node
    self.stack = stack


@contextlib.contextmanager
def _context_parts_made_once() -> Iterator[None]:
    """During the call, a context's `modules` are copies of dicts made once, and MacroGenerator is made by one
    `__init__` (`_macro_generator_init`) instead of its chain of three."""
    from dbt.clients.jinja import MacroGenerator
    from dbt.context import base

    dbt_modules, dbt_init = base.get_context_modules, MacroGenerator.__dict__["__init__"]
    made = dbt_modules()

    def get_context_modules() -> dict[str, dict[str, Any]]:
        return {name: dict(members) for name, members in made.items()}

    base.get_context_modules, MacroGenerator.__init__ = get_context_modules, _macro_generator_init
    try:
        yield
    finally:
        base.get_context_modules, MacroGenerator.__init__ = dbt_modules, dbt_init


@contextlib.contextmanager
def _fqn_checks_once_per_class() -> Iterator[None]:
    """During the call, dbt's context providers check `isinstance(node, IsFQNResource)` with dbt's own answer for
    the node's class, asked of the Protocol once per class."""
    from dbt.context import providers

    dbt_protocol = providers.IsFQNResource
    answers: dict[type, bool] = {}

    class _AnsweredPerClass(type):
        def __instancecheck__(cls, obj: Any) -> bool:
            kind = type(obj)
            answer = answers.get(kind)
            if answer is None:
                answer = answers[kind] = isinstance(obj, dbt_protocol)
            return answer

    class IsFQNResource(metaclass=_AnsweredPerClass):
        """dbt's IsFQNResource, answered once per class (`_fqn_checks_once_per_class`)."""

    providers.IsFQNResource = IsFQNResource
    try:
        yield
    finally:
        providers.IsFQNResource = dbt_protocol


@contextlib.contextmanager
def _flag_sources_without_source_text() -> Iterator[None]:
    """During the call, a behavior flag's default source is the module of the nearest frame outside
    dbt_common.behavior_flags, as dbt finds it but without `inspect.stack()`'s source lines, and an adapter's
    `behavior` setter extends a copy of the flags it is given, never dbt's module-level defaults."""
    import inspect
    import sys

    from dbt.adapters.base.impl import BaseAdapter
    from dbt_common import behavior_flags

    dbt_source = behavior_flags.BehaviorFlagRendered.__dict__["_default_source"]
    dbt_behavior = BaseAdapter.__dict__["behavior"]
    here = behavior_flags.__name__

    def _default_source() -> str:
        frame = sys._getframe(1)
        while frame is not None:
            if (module := inspect.getmodule(frame)) and module.__name__ != here:
                return module.__name__
            frame = frame.f_back
        return "Unknown"

    def set_behavior(self, flags):  # noqa: ANN001, ANN202
        dbt_behavior.fset(self, list(flags))

    behavior_flags.BehaviorFlagRendered._default_source = staticmethod(_default_source)
    BaseAdapter.behavior = dbt_behavior.setter(set_behavior)
    try:
        yield
    finally:
        behavior_flags.BehaviorFlagRendered._default_source, BaseAdapter.behavior = dbt_source, dbt_behavior
