{#- One row per (configured workspace, successful sync). Rename and cast only. A column (or the whole raw table) that dlt has not created
    yet, because no sync has loaded a value for it, is a typed NULL, so downstream models never break. -#}
{%- set src = source('paradime', 'workspace_syncs') -%}
{%- set rel = adapter.get_relation(src.database, src.schema, src.identifier) if execute else none -%}
{%- set have = (adapter.get_columns_in_relation(rel) | map(attribute='name') | map('lower') | list) if rel else [] -%}
with source as (
    {% if rel %}select * from {{ src }}{% else %}select 1 as _none{% endif %}
),

renamed as (
    select
        {% if 'workspace' in have %}cast(workspace as varchar){% else %}cast(null as varchar){% endif %} as workspace,
        {% if 'workspace_uid' in have %}cast(workspace_uid as varchar){% else %}cast(null as varchar){% endif %} as workspace_uid,
        {% if 'synced_at' in have %}{{ utc_timestamp('synced_at') }}{% else %}cast(null as timestamp){% endif %} as synced_at,
        {% if 'active_user_count' in have %}cast(active_user_count as bigint){% else %}cast(null as bigint){% endif %} as active_user_count,
        {% if 'invited_user_count' in have %}cast(invited_user_count as bigint){% else %}cast(null as bigint){% endif %} as invited_user_count,
        {% if '_whsync_synced_at' in have %}cast(_whsync_synced_at as timestamp with time zone){% else %}cast(null as timestamp with time zone){% endif %} as _whsync_synced_at
    from source
    {% if not rel %}where false{% endif %}
)

select * from renamed
