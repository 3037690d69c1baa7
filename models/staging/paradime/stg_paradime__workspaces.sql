{#- One row per Paradime workspace ever listed by `listWorkspaces` (key `workspace_uid`). Rename and cast only. A column (or the whole raw table) that dlt has not created
    yet, because no sync has loaded a value for it, is a typed NULL, so downstream models never break. -#}
{%- set src = source('paradime', 'workspaces') -%}
{%- set rel = adapter.get_relation(src.database, src.schema, src.identifier) if execute else none -%}
{%- set have = (adapter.get_columns_in_relation(rel) | map(attribute='name') | map('lower') | list) if rel else [] -%}
with source as (
    {% if rel %}select * from {{ src }}{% else %}select 1 as _none{% endif %}
),

renamed as (
    select
        {% if 'uid' in have %}cast(uid as varchar){% else %}cast(null as varchar){% endif %} as workspace_uid,
        {% if 'name' in have %}cast(name as varchar){% else %}cast(null as varchar){% endif %} as name,
        {% if 'last_seen_at' in have %}{{ utc_timestamp('last_seen_at') }}{% else %}cast(null as timestamp){% endif %} as last_seen_at,
        {% if '_whsync_synced_at' in have %}cast(_whsync_synced_at as timestamp with time zone){% else %}cast(null as timestamp with time zone){% endif %} as _whsync_synced_at
    from source
    {% if not rel %}where false{% endif %}
)

select * from renamed
