"""What whsync knows about its sources and warehouse relations, shared by the sync and the targets
(neither imports the other's module for these). Read from the source registry (`pipelines/sources.py`) when
asked, so a source added there is everywhere at once.

The module-level names (`SOURCES`, `SOURCE_RELATIONS`, ...) are computed on access, for readers outside the
package (examples/dagster, bench); whsync's own code calls the functions at the time of use."""
from __future__ import annotations

from typing import Any

from . import sources as _registry
from .sources import WAREHOUSE

STAGING = "staging"


def sources() -> tuple[str, ...]:
    """The names of the registered sources, in registry order."""
    return tuple(_registry.names())


def namespaces() -> tuple[str, ...]:
    """The namespaces of warehouse relations. A target maps each to a real schema: on DuckDB `warehouse` is
    `main`; on PostgreSQL it is the `--schema` (`public` by default), and the others are `paradime`/`bencher`
    for `public`, `<schema>__paradime`/`<schema>__bencher` otherwise."""
    return tuple(dict.fromkeys([WAREHOUSE, *(s.namespace for s in _registry.specs())]))


def raw_datasets() -> dict[str, str]:
    """Each source's raw dataset (schema) by its name in the `public` warehouse (and in DuckDB): `benchling_raw`."""
    return {s.name: s.raw_dataset for s in _registry.specs()}


def source_relations() -> dict[str, list[tuple[str, str]]]:
    """(namespace, relation) of each source's published warehouse relations (counts, grants)."""
    return {s.name: [(s.namespace, r) for r in s.relations] for s in _registry.specs()}


def history_relations() -> dict[str, list[tuple[str, str]]]:
    """(namespace, relation) of each source's history relations: one row per version of a row of a table
    (`macros/history.sql`, `pipelines/history.py`); readers get them with `grant-reader`."""
    return {s.name: [(s.namespace, f"{t}$history") for t in s.history] for s in _registry.specs()}


# The access review campaigns (pipelines/review/model.py), written by `whsync review`, never by a sync:
# tables first, then the view over them (a target carries them in this order).
REVIEW_RELATIONS: list[tuple[str, str]] = [
    (WAREHOUSE, r) for r in ("review_campaign", "review_item", "review_decision", "review_decision_current")]


def persistent_relations() -> list[tuple[str, str]]:
    """(namespace, relation) kept across syncs: each is carried from the published warehouse into every
    build before dbt runs (`Build.carry`), extended there (e.g. a dbt incremental `<table>$history`
    model, the `sync_run` log) and published atomically with the rest. Append yours here."""
    return [r for rels in history_relations().values() for r in rels] + [
        (WAREHOUSE, "sync_run"),  # the run log (pipelines/runlog.py), appended to inside each publish
        (WAREHOUSE, "remediation_action"),  # the remediation audit (pipelines/remediate/audit.py), appended by apply
    ] + REVIEW_RELATIONS


def audit_relations() -> list[tuple[str, str]]:
    """(namespace, relation) of whsync's own tables readers get with `grant-reader` besides the sources'."""
    return [(WAREHOUSE, "remediation_action"), (WAREHOUSE, "remediation_verification")]


def warehouse_tables() -> list[str]:
    """The relations in the warehouse namespace (the Benchling-compatible tables and views)."""
    return [r for rels in source_relations().values() for ns, r in rels if ns == WAREHOUSE]


def arrow(source: str) -> bool:
    """Whether `source` yields Arrow tables (loaded from parquet or csv files) rather than rows."""
    return _registry.spec(source).arrow


def relation_label(namespace: str, name: str) -> str:
    """How a relation is named in counts and messages: `user`, `paradime.user`."""
    return name if namespace == WAREHOUSE else f"{namespace}.{name}"


_COMPUTED = {"SOURCES": sources, "NAMESPACES": namespaces, "RAW_DATASETS": raw_datasets,
             "SOURCE_RELATIONS": source_relations, "HISTORY_RELATIONS": history_relations,
             "PERSISTENT_RELATIONS": persistent_relations, "WAREHOUSE_TABLES": warehouse_tables,
             "AUDIT_RELATIONS": audit_relations}


def __getattr__(name: str) -> Any:
    if name in _COMPUTED:
        return _COMPUTED[name]()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
