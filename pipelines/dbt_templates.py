"""The code Jinja compiles from dbt's templates, kept for the next template of the same text (in this process)
and for the next process (on disk). Used by `_compiled_templates_reused` in pipelines/dbt_trims.py.

Jinja's compiled code for a text does not depend on the environment instance that compiled it (the
environment is given to it when it runs, as with Jinja's own bytecode cache); it depends on the
environment's class, extensions and the settings `_codegen_settings` reads, so those and the text are the
key. A build compiles ~240 templates, about 0.35 s of CPU in each new process (each `whsync sync`): the
store keeps their code in one file per Python, Jinja, dbt-common and dbt-core version under whsync's cache
(`<cache>/dbt-jinja/compiled-<hash>.marshal`, what Jinja's FileSystemBytecodeCache does per template),
read once per process and written again only when a run compiled something new. A missing, damaged or
unwritable store is as if there were none: each template is compiled from its text. Like Python's own
`__pycache__`, the store is code that whsync runs: it is written only by whsync into the user's cache
directory (created readable by its owner only), and a cache directory others can write is as unsafe for it
as for dbt's parse files beside it.
"""
from __future__ import annotations

import hashlib
import marshal
import sys
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from .dbt_parse_cache import write_atomically

KEEP = 4096  # compiled templates kept (most recently used); a build uses a few hundred


def _codegen_settings(env: Any) -> tuple:
    """What else Jinja's lexer and code generator read from an environment (jinja2.lexer.get_lexer's key, and
    the settings the generated code depends on)."""
    return (env.block_start_string, env.block_end_string, env.variable_start_string, env.variable_end_string,
            env.comment_start_string, env.comment_end_string, env.line_statement_prefix, env.line_comment_prefix,
            env.trim_blocks, env.lstrip_blocks, env.newline_sequence, env.keep_trailing_newline,
            env.autoescape, env.optimized, env.finalize, env.is_async)


def key(env: Any, source: str) -> tuple:
    """The key of the code `env` compiles from `source`."""
    cls = type(env)
    return (f"{cls.__module__}.{cls.__qualname__}", tuple(env.extensions), _codegen_settings(env), source)


def _plain(k: tuple) -> bool:
    """Whether a key can be written and read back as itself: an environment whose settings are text, numbers,
    booleans or None (dbt's are), not a function such as an autoescape or finalize callable."""
    return all(v is None or isinstance(v, (str, bool, int)) for v in k[2]) and all(isinstance(e, str) for e in k[1])


def store_file(directory: Path) -> Path:
    """The store's file for this Python, Jinja, dbt-common and dbt-core: code objects and their marshal format
    belong to one Python, the generated code to one Jinja and dbt's environments."""
    from importlib import metadata

    versions = [sys.version, sys.implementation.cache_tag or ""]
    for dist in ("jinja2", "dbt-common", "dbt-core"):
        try:
            versions.append(f"{dist}=={metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{dist}==?")
    return directory / f"compiled-{hashlib.sha1('|'.join(versions).encode()).hexdigest()[:16]}.marshal"


class CompiledTemplates:
    """Compiled code by key (the most recently used KEEP), shared by the threads of a process."""

    def __init__(self) -> None:
        self._code: OrderedDict[tuple, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._added = 0  # compiled here since the store was last read or written
        self._read: set[Path] = set()  # the store files read (once each)

    def get(self, k: tuple) -> Any | None:
        with self._lock:
            code = self._code.get(k)
            if code is not None:
                self._code.move_to_end(k)
            return code

    def put(self, k: tuple, code: Any) -> None:
        with self._lock:
            self._code[k] = code
            self._added += 1
            while len(self._code) > KEEP:
                self._code.popitem(last=False)

    def read(self, directory: Path) -> None:
        """Add what earlier processes compiled (the store's file, read once per process); a missing, unreadable
        or damaged file is as if empty."""
        path = store_file(directory)
        if path in self._read:
            return
        self._read.add(path)
        try:
            stored = marshal.loads(path.read_bytes())
        except (OSError, EOFError, ValueError, TypeError):
            return
        if not isinstance(stored, dict):
            return
        with self._lock:
            for k, code in stored.items():
                if isinstance(k, tuple) and len(k) == 4 and isinstance(k[3], str) and hasattr(code, "co_code"):
                    self._code.setdefault(k, code)

    def write(self, directory: Path) -> None:
        """Write what this process holds (what it read, and what it compiled since) to the store's file,
        atomically: a concurrent reader sees the old file or the new one. Nothing new: nothing written. A
        store that cannot be written is left as it is (the next process compiles what it needs)."""
        with self._lock:
            if not self._added:
                return
            data = marshal.dumps({k: code for k, code in self._code.items() if _plain(k)})
            self._added = 0
        path = store_file(directory)
        try:
            write_atomically(path, data)
        except OSError:
            return
        self._read.add(path)


COMPILED = CompiledTemplates()
