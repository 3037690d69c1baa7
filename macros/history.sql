{#- History of a warehouse table: one row per version of a row, `valid_from`/`valid_to` = start times
    of published syncs. ONE mechanism for every table: a history model is

        {{ history(ref('team_member'), source='benchling', key=['team_id', 'user_id']) }}

    and its columns (the documented columns of the table, then `valid_from`, `valid_to`) are the
    model's YAML columns, in order. The model is an incremental model with the custom incremental
    strategy `history` below: dbt materializes the table's current rows into a temp relation, then

      1. closes every open version (valid_to NULL) whose key is gone or whose compared columns differ
         from the current row: valid_to = the source's sync start;
      2. inserts a version (valid_from = the sync start) for every current row without an open one.

    Unchanged data adds nothing; a row that comes back after it was gone gets a new version.

    Why not dbt snapshots (dbt-core 1.11): the `check` strategy takes `valid_from` from an
    `updated_at` column, but a hard delete (`hard_deletes='invalidate'`) sets `dbt_valid_to` to
    `snapshot_get_time()`, the build's clock, not the sync's start (helpers.sql, `deletes` CTE) — only
    overriding that global macro would change it; `dbt_scd_id` and `dbt_updated_at` can be renamed
    (`snapshot_meta_column_names`) but not left out, so the relations would carry columns the contract
    has not; and adding a checked column marks every row changed (`column_added`), a spurious version
    for every row on upgrade. Snapshots also take no contract.

    The sync start of each source comes from the sync (`WHSYNC_SYNC_TIMES`, JSON {source: naive UTC
    time}; `pipelines/history.py`): the sync's own start for a source extracted in this run, else
    the start of the sync that loaded the source's raw data. An environment variable rather than
    `--vars`: a var that changes every run would make dbt re-parse the whole project each build.
    Without a time (dbt run by hand) nothing is recorded. `full_refresh=false`: `dbt --full-refresh`
    never drops history. -#}
{% macro history(relation, source, key, where=none, null_by_design=[], schema=none) -%}
{{ config(
    materialized='incremental',
    incremental_strategy='history',
    unique_key=key,
    full_refresh=false,
    on_schema_change='append_new_columns',
    meta={'history': {'source': source, 'null_by_design': null_by_design}},
    **({'schema': schema} if schema else {})
) }}
{%- set t = history_time(source) -%}
select
{%- for col in history_columns() %}
    {{ adapter.quote(col) }},
{%- endfor %}
    {{ t if t else typed_null('timestamp') }} as valid_from,
    {{ typed_null('timestamp') }} as valid_to
from {{ relation }}
where {{ where if where else 'true' }}{% if not t %} and false{% endif %}
{%- endmacro %}

{#- The history model's own columns (its YAML), without valid_from/valid_to. -#}
{% macro history_columns() -%}
{%- set cols = [] -%}
{%- if execute -%}
  {%- for name in model.columns -%}
    {%- if name not in ('valid_from', 'valid_to') %}{% do cols.append(name) %}{% endif -%}
  {%- endfor -%}
{%- endif -%}
{{ return(cols) }}
{%- endmacro %}

{#- The sync start of `source` as a SQL timestamp literal (naive UTC), or none. Read only when dbt
    executes (like the columns above): an environment variable read while parsing is recorded, and its
    new value at every sync would make dbt re-parse every history model at every build. -#}
{% macro history_time(source) -%}
{%- if not execute -%}{{ return(none) }}{%- endif -%}
{%- set times = fromjson(env_var('WHSYNC_SYNC_TIMES', '{}')) -%}
{%- set t = times.get(source) -%}
{%- if t and modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]{1,6})?', t) -%}
  {{ return(dbt.cast("'" ~ t ~ "'", sql_type('timestamp'))) }}
{%- endif -%}
{{ return(none) }}
{%- endmacro %}

{#- The custom incremental strategy (dbt calls it with the temp relation of the current rows). -#}
{% macro get_incremental_history_sql(arg_dict) -%}
{%- set target = arg_dict['target_relation'] -%}
{%- set current = arg_dict['temp_relation'] -%}
{%- set keys = arg_dict['unique_key'] if arg_dict['unique_key'] is not string else [arg_dict['unique_key']] -%}
{%- set meta = config.get('meta')['history'] -%}
{%- set t = history_time(meta['source']) -%}
{%- if not t -%}
select 1 where false
{%- else -%}
{%- set cols = history_columns() -%}
{%- set compared = [] -%}
{%- for c in cols %}{% if c not in keys and c not in meta['null_by_design'] %}{% do compared.append(c) %}{% endif %}{% endfor -%}
{%- set key_match -%}
{%- for k in keys %}h.{{ adapter.quote(k) }} = n.{{ adapter.quote(k) }}{{ ' and ' if not loop.last }}{% endfor -%}
{%- endset -%}
update {{ target }} as h set valid_to = {{ t }}
where h.valid_to is null and h.valid_from < {{ t }}
  and not exists (
    select 1 from {{ current }} as n
    where {{ key_match }}
    {%- for c in compared %}
      and h.{{ adapter.quote(c) }} is not distinct from n.{{ adapter.quote(c) }}
    {%- endfor %}
  );
insert into {{ target }} ({% for c in cols %}{{ adapter.quote(c) }}, {% endfor %}valid_from, valid_to)
select {% for c in cols %}n.{{ adapter.quote(c) }}, {% endfor %}n.valid_from, n.valid_to
from {{ current }} as n
where not exists (select 1 from {{ target }} as h where h.valid_to is null and {{ key_match }})
{%- endif -%}
{%- endmacro %}
