"""Where whsync's own files are, wherever it runs from: a git clone or an installed wheel.

In a clone the dbt project (`dbt_project.yml`, `models/`, `macros/`, `profiles/`) and the example queries
the access review runs (`examples/queries/`) sit at the repository's top level, where developers run dbt
directly. A wheel carries copies inside the package (`pipelines/dbt_project/`, `pipelines/report/queries/`,
mapped by `[tool.hatch.build.targets.wheel]` `sources` and `force-include` in pyproject.toml). Both are found from the
installed location of the package, never from the current directory: the only things whsync reads
relative to the current directory are the user's `.dlt/` and the warehouse path.

dbt writes its work files (partial parse, compiled SQL, logs) into a per-user cache directory, never next
to the project: in an installed wheel that would be site-packages.
"""
from __future__ import annotations

import hashlib
import os
import sys
from importlib import metadata, resources
from pathlib import Path

CACHE_DIR_ENV = "WHSYNC_CACHE_DIR"
PACKAGED_DBT_PROJECT = "dbt_project"  # under the package, in a wheel


def version() -> str:
    """The installed whsync's version, from the package metadata (pyproject.toml's `version`)."""
    try:
        return metadata.version("whsync")
    except metadata.PackageNotFoundError:
        return "unknown"


def _config_error(message: str) -> Exception:
    from .settings import ConfigError  # imported late: `whsync --version` needs no dlt

    return ConfigError(message)


def package_dir() -> Path:
    """The directory of the `pipelines` package (in a clone, the checkout's; installed, site-packages')."""
    root = resources.files("pipelines")
    if not isinstance(root, Path):  # a zip import: dbt needs the project as files
        raise _config_error(f"whsync is installed as {root} (not a directory); install the wheel with pip, "
                          "pipx or uv so that its dbt project is on disk")
    return root


def dbt_project_dir() -> Path:
    """The dbt project: the copy inside an installed package, else the clone's top level."""
    pkg = package_dir()
    for candidate in (pkg / PACKAGED_DBT_PROJECT, pkg.parent):
        if (candidate / "dbt_project.yml").is_file():
            return candidate
    raise _config_error(f"whsync's dbt project is missing: no dbt_project.yml in {pkg / PACKAGED_DBT_PROJECT} or "
                      f"{pkg.parent}; reinstall whsync from its wheel")


def profiles_dir() -> Path:
    """dbt's profiles.yml (connections from environment variables the targets set)."""
    return dbt_project_dir() / "profiles"


def queries_dir() -> Path:
    """The example queries the access review runs: the installed copy, else the clone's examples/queries/."""
    pkg = package_dir()
    for candidate in (pkg / "report" / "queries", pkg.parent / "examples" / "queries"):
        if candidate.is_dir():
            return candidate
    raise _config_error(f"whsync's report queries are missing from {pkg / 'report' / 'queries'}; reinstall whsync")


def cache_dir() -> Path:
    """whsync's per-user cache: $WHSYNC_CACHE_DIR, else the platform's user cache directory
    ($XDG_CACHE_HOME/whsync or ~/.cache/whsync on Linux)."""
    if os.environ.get(CACHE_DIR_ENV):
        return Path(os.environ[CACHE_DIR_ENV]).expanduser()
    home = Path.home()
    if sys.platform == "darwin":
        return home / "Library" / "Caches" / "whsync"
    if os.name == "nt":
        return Path(os.environ.get("LOCALAPPDATA") or home / "AppData" / "Local") / "whsync" / "Cache"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg and Path(xdg).is_absolute() else home / ".cache") / "whsync"


def dbt_work_dir(key: str) -> Path:
    """dbt's target and log directory for one warehouse (`key`) and one installed project, so that
    partial parsing is reused between runs and two installed versions never share parse results."""
    digest = hashlib.sha1(f"{dbt_project_dir()}|{version()}|{key}".encode()).hexdigest()[:12]
    d = cache_dir() / "dbt" / digest
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise _config_error(f"cannot create dbt's work directory {d} ({e.strerror or type(e).__name__}); set "
                          f"{CACHE_DIR_ENV} to a writable directory") from None
    return d
