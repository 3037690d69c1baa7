"""Reading whsync's settings: an environment variable first, then dlt's ``.dlt/config.toml`` (settings) or
``.dlt/secrets.toml`` (keys). The sources and the sync read through here, so that a file dlt cannot parse
is reported as what it is (which file, which line; exit 2), never as "no credentials"."""
from __future__ import annotations

import contextlib
import os
import tempfile
from typing import Any, Iterator

from .errors import ConfigError


def _dlt() -> Any:
    """dlt, imported when a setting is first read (a second of CPU that `whsync status`, `sql` or `report` on a
    DuckDB file never needs)."""
    import dlt

    return dlt


def _toml_error(exc: BaseException) -> ConfigError | None:
    """A ConfigError naming the file and line of a TOML file dlt failed to read, or None for any other error."""
    from dlt.common.configuration.providers.toml import TomlProviderReadException

    if not isinstance(exc, TomlProviderReadException):
        return None
    import tomlkit
    from tomlkit.exceptions import ParseError

    for path in exc.full_paths:
        try:
            with open(path, encoding="utf-8") as f:
                tomlkit.parse(f.read())
        except ParseError as e:
            reason = str(e).rsplit(" at line ", 1)[0]  # tomlkit's text ends with its own position
            return ConfigError(
                f"{os.path.normpath(path)} line {e.line}, column {e.col}: not valid TOML ({reason}); fix that "
                "line (nothing is read from the file until it parses)"
            )
        except (OSError, UnicodeDecodeError) as e:
            if os.path.exists(path):
                return ConfigError(f"{os.path.normpath(path)} cannot be read ({type(e).__name__}); fix the file")
    return ConfigError(f"dlt cannot read {exc.file_name} (looked in {', '.join(exc.full_paths)})")


def _lookup(store: Any, key: str) -> Any:
    try:
        return store.get(key)
    except Exception as e:  # noqa: BLE001 - a key that is not there, or the wrong shape, means "not set"
        err = _toml_error(e)
        if err is not None:
            raise err from None
        return None


def secret(key: str, env: str | None = None) -> Any:
    """``$env`` if set, else ``key`` from dlt secrets (``.dlt/secrets.toml``), else None."""
    value = os.environ.get(env) if env else None
    return value or _lookup(_dlt().secrets, key)


def config(key: str, env: str | None = None) -> Any:
    """``$env`` if set, else ``key`` from dlt config (``.dlt/config.toml``), else None."""
    value = os.environ.get(env) if env else None
    return value or _lookup(_dlt().config, key)


def _toml_files_possible() -> bool:
    """Whether dlt could find a TOML file to read: its settings folders (``./.dlt`` and ``~/.dlt``) hold one, or
    an environment variable moves where it looks (``DLT_PROJECT_DIR``, ``DLT_CONFIG_FOLDER``, ``XDG_DATA_HOME``,
    ...), which only dlt itself resolves. dlt's providers are the environment and these two files
    (``initial_providers`` of its run context)."""
    if "XDG_DATA_HOME" in os.environ or any(k.startswith("DLT_") for k in os.environ):
        return True
    folders = (os.path.join(os.getcwd(), ".dlt"), os.path.join(os.path.expanduser("~"), ".dlt"))
    return any(os.path.exists(os.path.join(d, f)) for d in folders for f in ("config.toml", "secrets.toml"))


def check() -> None:
    """Raise ConfigError if ``.dlt/config.toml`` or ``.dlt/secrets.toml`` exists but does not parse, before a
    command reads anything else from them (dlt itself would fail later, with a wrapper's message). With no
    such file, there is nothing to check and dlt is not even imported."""
    if not _toml_files_possible():
        return
    dlt = _dlt()
    _lookup(dlt.config, "whsync._settings_check")
    _lookup(dlt.secrets, "whsync._settings_check")


KEEP_DLT_DIR_ENV = "WHSYNC_KEEP_DLT_DIR"


@contextlib.contextmanager
def dlt_working_dir() -> Iterator[str]:
    """A fresh, empty dlt ``pipelines_dir`` for one extract, deleted afterwards; with ``$WHSYNC_KEEP_DLT_DIR``
    set, made inside that folder and kept (to inspect what dlt wrote: load packages, state, traces)."""
    keep = os.environ.get(KEEP_DLT_DIR_ENV)
    if keep:
        os.makedirs(keep, exist_ok=True)
        yield tempfile.mkdtemp(prefix="whsync-dlt-", dir=keep)
        return
    with tempfile.TemporaryDirectory(prefix="whsync-dlt-") as d:
        yield d
