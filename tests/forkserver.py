"""Run `whsync` in the tests without paying its imports each time: a fork server.

A `whsync sync` process spends ~2.5 s of CPU importing dbt, dlt, duckdb and pyarrow before it does
anything, and the suite starts a few hundred whsync processes. So each pytest process starts, once, a
server (`python -m tests.forkserver SOCKET`) that imports what the commands import and then forks one
child per command. A child is a real process like the one the console script starts: its own pid,
arguments, environment, working directory and standard streams (the caller's pipes, passed over the
socket), the same `pipelines.cli:app` run as the console script runs it, the same exit code (or
signal), killed by the same `os.kill`, its locks its own. What it skips is the import, done before the
fork with the environment the pytest process started with: PRELOAD, every module of `pipelines`, and what
dlt and dbt import lazily during a process's first sync (about 0.7 s of a sync child's CPU), and the JSON
schemas dbt builds once per process (`_warm`). Nothing of that starts a thread, runs dbt or opens a
database. (Running a whole dbt build in the server before forking made `whsync demo` children hang when
dbt's cache was empty, as on a fresh machine; the cause was not found, so nothing before the fork runs dbt
or opens DuckDB.)

`Popen(args, ...)` and `run(args, ...)` take the arguments of `subprocess.Popen`/`subprocess.run` that
the tests use. When `args[0]` is not this checkout's `whsync` script (the installed wheel's tests), or
`WHSYNC_TEST_FORKSERVER=0` is set, they are `subprocess`'s own.
"""
from __future__ import annotations

import atexit
import io
import json
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import types
from pathlib import Path
from typing import Any

WHSYNC = str(Path(sys.executable).with_name("whsync"))
# the environment the pytest process started with: a test's monkeypatched variables stay its own
_BASE_ENV = dict(os.environ)
# what the commands import at run time (imported inside the commands, so not by `pipelines.cli` itself)
PRELOAD = (
    "dlt", "dlt.pipeline", "dlt.destinations", "dlt.sources.helpers",
    "dlt.destinations.impl.duckdb.duck", "dlt.destinations.impl.postgres.postgres", "dlt.normalize", "dlt.load",
    "dbt.cli.main", "dbt.adapters.duckdb", "dbt.adapters.postgres", "dbt.adapters.factory", "dbt.task.build",
    "dbt.task.docs.generate", "duckdb", "psycopg2", "pyarrow", "pyarrow.parquet", "jinja2", "requests", "httpx",
    # what dlt and dbt import during a process's first sync or build, a review's workbook and a report's charts
    "sqlalchemy", "pluggy", "dlt.common.configuration.plugins", "dlt.common.libs.pyarrow",
    "dlt.common.libs.sql_alchemy_compat", "dlt.sources.helpers.requests", "pyarrow.compute", "babel.dates",
    "pendulum.locales.en.locale", "multiprocessing.dummy", "google.protobuf.descriptor_pb2",
    "dbt.adapters.duckdb.environments.local", "dbt_common.clients.agate_helper", "openpyxl", "altair",
    "markdown_it",
)  # and every module of the `pipelines` package (`_preload`)


# --- the server --------------------------------------------------------------------------------------

def _recv_request(conn: socket.socket) -> tuple[dict[str, Any], list[int]]:
    data, fds, _flags, _addr = socket.recv_fds(conn, 1 << 20, 3)
    (size,) = struct.unpack("!I", data[:4])
    body = data[4:]
    while len(body) < size:
        chunk = conn.recv(size - len(body))
        if not chunk:
            raise EOFError("the client went away mid-request")
        body += chunk
    return json.loads(body), list(fds)


def _child(request: dict[str, Any], fds: list[int], close: list[Any]) -> None:
    """In the forked child: become the requested `whsync` process, run it, and exit with its code."""
    code: int = 1
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for c in close:
            c.close() if hasattr(c, "close") else os.close(c)
        for target, fd in enumerate(fds):
            if fd != target:
                os.dup2(fd, target)
        for fd in set(fds):
            if fd > 2:
                os.close(fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        sys.argv = list(request["argv"])
        # the console script is `__main__` (click names the program from it: `whsync`, not `python -m ...`)
        main = types.ModuleType("__main__")
        main.__file__, main.__spec__ = sys.argv[0], None
        sys.modules["__main__"] = main
        from pipelines.cli import app, common

        common.telemetry_off()  # what the import did, for this environment
        try:
            app()
            code = 0
        except SystemExit as e:
            if e.code is None:
                code = 0
            elif isinstance(e.code, int):
                code = e.code & 0xFF
            else:
                print(e.code, file=sys.stderr)
                code = 1
        except KeyboardInterrupt:
            code = 130
        except BaseException:  # what the interpreter does with an uncaught exception
            import traceback

            traceback.print_exc()
            code = 1
        # the interpreter's exit: wait for non-daemon threads, run atexit functions, flush
        shutdown = getattr(threading, "_shutdown", None)
        if shutdown:
            shutdown()
        atexit._run_exitfuncs()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001 - a closed pipe: nothing more to say
                pass
        os._exit(code)


def _preload() -> None:
    """Import PRELOAD and every module of whsync's `pipelines` package (the commands import theirs when run)."""
    import importlib
    import pkgutil

    import pipelines

    for name in PRELOAD:
        importlib.import_module(name)
    for module in pkgutil.walk_packages(pipelines.__path__, "pipelines."):
        if not module.name.endswith(".__main__"):  # `python -m pipelines` runs the command line
            importlib.import_module(module.name)


def _warm() -> None:
    """What every command's first dbt run builds once per process, built before forking: the JSON schemas
    dbt validates its project, profile and test results against (cached per class). Nothing here starts a
    thread or opens a database."""
    from dbt.adapters.duckdb.credentials import DuckDBCredentials
    from dbt.adapters.postgres.connections import PostgresCredentials
    from dbt.contracts.project import Configuration, PackageConfig, ProfileConfig, Project, ProjectFlags
    from dbt.contracts.selection import SelectorFile
    from dbt.task.test import TestResultData

    for cls in (ProjectFlags, ProfileConfig, Project, PackageConfig, Configuration, SelectorFile, TestResultData,
                DuckDBCredentials, PostgresCredentials):
        cls.json_schema()


def serve(path: str) -> None:
    _preload()
    _warm()
    if threading.active_count() != 1:  # a fork copies only the forking thread
        raise SystemExit(f"forkserver: importing started threads: {threading.enumerate()}")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    parent = os.getppid()
    children: dict[int, socket.socket] = {}
    print("ready", flush=True)
    while os.getppid() == parent:
        ready, _, _ = select.select([listener, wake_r], [], [], 1.0)
        if wake_r in ready:
            while True:
                try:
                    if not os.read(wake_r, 512):
                        break
                except BlockingIOError:
                    break
        while children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            conn = children.pop(pid, None)
            if conn is not None:
                try:
                    conn.sendall(json.dumps({"status": status}).encode() + b"\n")
                except OSError:
                    pass
                conn.close()
        if listener in ready:
            conn, _ = listener.accept()
            try:
                request, fds = _recv_request(conn)
            except (OSError, EOFError, ValueError):
                conn.close()
                continue
            pid = os.fork()
            if pid == 0:
                _child(request, fds, [listener, conn, wake_r, wake_w])
            for fd in fds:
                os.close(fd)
            children[pid] = conn
            conn.sendall(json.dumps({"pid": pid}).encode() + b"\n")


# --- the client --------------------------------------------------------------------------------------

class _Server:
    def __init__(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="whsync-fork-")
        self.path = os.path.join(self.dir, "s")
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.forkserver", self.path], env=_BASE_ENV,
                                     cwd=str(Path(__file__).resolve().parents[1]), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if line.strip() != "ready":
            self.proc.kill()
            raise RuntimeError(f"the test fork server did not start (exit {self.proc.wait()})")

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        if os.path.exists(self.path):
            os.unlink(self.path)
        os.rmdir(self.dir)


_server: _Server | None = None
_server_lock = threading.Lock()


def _get_server() -> _Server:
    global _server
    with _server_lock:
        if _server is None or _server.proc.poll() is not None:
            _server = _Server()
            atexit.register(_server.close)
        return _server


def _use_forkserver(args: Any) -> bool:
    if os.environ.get("WHSYNC_TEST_FORKSERVER", "1") == "0" or isinstance(args, (str, bytes)):
        return False
    return bool(args) and str(args[0]) == WHSYNC


class _Process:
    """The part of `subprocess.Popen` the tests use, for a child of the fork server."""

    def __init__(self, args: list[str], *, stdin: Any = None, stdout: Any = None, stderr: Any = None,
                 cwd: Any = None, env: dict[str, str] | None = None, text: bool | None = None,
                 universal_newlines: bool | None = None, encoding: str | None = None, errors: str | None = None,
                 bufsize: int = -1) -> None:
        self.args = list(args)
        self.returncode: int | None = None
        self.stdin = self.stdout = self.stderr = None
        text_mode = bool(text or universal_newlines or encoding or errors)
        mine: list[int] = []  # the child's ends, closed here once sent
        devnull: int | None = None

        def child_end(spec: Any, fd: int, reading: bool) -> int:
            nonlocal devnull
            if spec is None:
                return fd
            if spec == subprocess.DEVNULL:
                if devnull is None:
                    devnull = os.open(os.devnull, os.O_RDWR)
                    mine.append(devnull)
                return devnull
            if spec == subprocess.PIPE:
                r, w = os.pipe()
                ours, theirs = (w, r) if reading else (r, w)
                mode = "w" if reading else "r"
                if text_mode:
                    f = io.open(ours, mode + "b", buffering=-1 if bufsize != 0 else 0)
                    f = io.TextIOWrapper(f, encoding=encoding or "locale", errors=errors,
                                         write_through=reading)
                else:
                    f = io.open(ours, mode + "b", buffering=bufsize)
                setattr(self, ("stdin", "stdout", "stderr")[fd], f)
                mine.append(theirs)
                return theirs
            return spec if isinstance(spec, int) else spec.fileno()

        fds = [child_end(stdin, 0, True), child_end(stdout, 1, False)]
        fds.append(fds[1] if stderr == subprocess.STDOUT else child_end(stderr, 2, False))
        request = {"argv": [str(a) for a in self.args], "cwd": os.path.abspath(cwd or os.getcwd()),
                   "env": dict(os.environ if env is None else env)}
        body = json.dumps(request).encode()
        self._conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self._conn.connect(_get_server().path)
            socket.send_fds(self._conn, [struct.pack("!I", len(body)) + body], fds)
            self._buf = b""
            self.pid = int(self._message(None)["pid"])
        finally:
            for fd in mine:
                os.close(fd)

    def _message(self, timeout: float | None) -> dict[str, Any] | None:
        while b"\n" not in self._buf:
            self._conn.settimeout(timeout)
            try:
                chunk = self._conn.recv(4096)
            except (socket.timeout, BlockingIOError):
                return None
            if not chunk:
                raise RuntimeError(f"the test fork server went away while running {self.args[1:3]}")
            self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        return json.loads(line)

    def _status(self, timeout: float | None) -> int | None:
        if self.returncode is None:
            msg = self._message(timeout)
            if msg is not None:
                self.returncode = os.waitstatus_to_exitcode(msg["status"])
                self._conn.close()
        return self.returncode

    def poll(self) -> int | None:
        return self._status(0)

    def wait(self, timeout: float | None = None) -> int:
        code = self._status(timeout)
        if code is None:
            raise subprocess.TimeoutExpired(self.args, timeout)
        return code

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def communicate(self, input: Any = None, timeout: float | None = None) -> tuple[Any, Any]:
        out: dict[str, Any] = {}
        threads = []

        def read(name: str, f: Any) -> None:
            out[name] = f.read()
            f.close()

        for name in ("stdout", "stderr"):
            f = getattr(self, name)
            if f is not None and not f.closed:
                t = threading.Thread(target=read, args=(name, f), daemon=True)
                t.start()
                threads.append(t)
        if self.stdin is not None and not self.stdin.closed:
            try:
                if input:
                    self.stdin.write(input)
                self.stdin.close()
            except BrokenPipeError:
                pass
        deadline = None if timeout is None else time.monotonic() + timeout
        for t in threads:
            t.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
            if t.is_alive():
                raise subprocess.TimeoutExpired(self.args, timeout)
        self.wait(None if deadline is None else max(0.0, deadline - time.monotonic()))
        return out.get("stdout"), out.get("stderr")

    def __enter__(self) -> "_Process":
        return self

    def __exit__(self, *exc: Any) -> None:
        for f in (self.stdout, self.stderr, self.stdin):
            if f is not None:
                try:
                    f.close()
                except OSError:
                    pass
        self.wait()


def Popen(args: Any, **kw: Any) -> Any:  # noqa: N802 - subprocess.Popen's name
    return _Process(args, **kw) if _use_forkserver(args) else subprocess.Popen(args, **kw)


def run(args: Any, *, input: Any = None, capture_output: bool = False, timeout: float | None = None,
        check: bool = False, **kw: Any) -> subprocess.CompletedProcess:
    """`subprocess.run`, with whsync forked from the server."""
    if not _use_forkserver(args):
        return subprocess.run(args, input=input, capture_output=capture_output, timeout=timeout, check=check, **kw)
    if capture_output:
        kw["stdout"] = kw["stderr"] = subprocess.PIPE
    if input is not None:
        kw["stdin"] = subprocess.PIPE
    with _Process(args, **kw) as p:
        try:
            out, err = p.communicate(input, timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            raise
    if check and p.returncode:
        raise subprocess.CalledProcessError(p.returncode, args, out, err)
    return subprocess.CompletedProcess(args, p.returncode, out, err)


if __name__ == "__main__":
    serve(sys.argv[1])
