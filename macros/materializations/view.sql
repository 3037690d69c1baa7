{#- The view materialization of every sync's build, on DuckDB and PostgreSQL: the view replaced in place, in
    one transaction (DuckDB: `create or replace view`; PostgreSQL, whose `create or replace` refuses changed
    columns: the existing view dropped and the new one created).

    dbt's own (global_project view.sql) creates the view under an intermediate name, renames the existing one
    to a backup name, renames the new one into place and drops the backup: five statements and as many
    lookups in dbt's relation cache, so that a reader of the live schema never finds the name missing. whsync
    never builds in a live schema: a sync and `whsync build` build a private copy (a copy of the DuckDB file;
    fresh `__build` schemas on PostgreSQL) that is published atomically as a whole (pipelines/targets/), so
    nobody reads a view while it is replaced. That took dbt's timing of a view's execute step from ~13 to ~6 ms
    (26 views in a Benchling resync; `python -m bench --scenarios 10` prints it per node kind). On DuckDB the
    view is replaced (dbt-duckdb's `duckdb__create_view_as`, written out with `or replace`) rather than dropped
    and created: the drop is a statement and a commit of its own, ~3 ms more per view.

    What dbt's does beside is kept: the hooks in and out of the transaction, `persist_docs`, and a relation of
    another type (a table) dropped first; on PostgreSQL dependants are dropped with the old view (`cascade`),
    as dbt's backup drop does, and rebuilt after it in the DAG. The project configures no `grants` on views (a
    reporting role is granted by `whsync grant`), so none are applied here. -#}
{% materialization view, default %}
  {%- set existing_relation = load_cached_relation(this) -%}
  {%- set target_relation = this.incorporate(type='view') -%}

  {%- set in_place = target.type == 'duckdb' and existing_relation is not none and existing_relation.is_view -%}

  {{ run_hooks(pre_hooks, inside_transaction=False) }}
  -- `BEGIN` happens here:
  {{ run_hooks(pre_hooks, inside_transaction=True) }}
  {% if not in_place %}
    {{ drop_relation_if_exists(existing_relation) }}
  {% endif %}

  {% call statement('main') -%}
    {%- if in_place -%}
      {%- if config.get('contract').enforced -%}{{ get_assert_columns_equivalent(sql) }}{%- endif -%}
      {%- set sql_header = config.get('sql_header', none) -%}
      {{ sql_header if sql_header is not none }}
      create or replace view {{ target_relation }} as (
        {{ sql }}
      );
    {%- else -%}
      {{ get_create_view_as_sql(target_relation, sql) }}
    {%- endif -%}
  {%- endcall %}

  {% do persist_docs(target_relation, model) %}
  {{ run_hooks(post_hooks, inside_transaction=True) }}
  {{ adapter.commit() }}
  {{ run_hooks(post_hooks, inside_transaction=False) }}

  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
