{#- One row per (organization, member user uuid) ever listed. Rename and cast only. A column (or the whole raw table) that dlt has not created
    yet, because no sync has loaded a value for it, is a typed NULL, so downstream models never break. -#}
{%- set src = source('bencher', 'members') -%}
{%- set rel = adapter.get_relation(src.database, src.schema, src.identifier) if execute else none -%}
{%- set have = (adapter.get_columns_in_relation(rel) | map(attribute='name') | map('lower') | list) if rel else [] -%}
with source as (
    {% if rel %}select * from {{ src }}{% else %}select 1 as _none{% endif %}
),

renamed as (
    select
        {% if 'organization_uuid' in have %}cast(organization_uuid as varchar){% else %}cast(null as varchar){% endif %} as organization_uuid,
        {% if 'organization_slug' in have %}cast(organization_slug as varchar){% else %}cast(null as varchar){% endif %} as organization_slug,
        {% if 'uuid' in have %}cast(uuid as varchar){% else %}cast(null as varchar){% endif %} as user_uuid,
        {% if 'name' in have %}cast(name as varchar){% else %}cast(null as varchar){% endif %} as name,
        {% if 'slug' in have %}cast(slug as varchar){% else %}cast(null as varchar){% endif %} as slug,
        {% if 'email' in have %}cast(email as varchar){% else %}cast(null as varchar){% endif %} as email,
        {% if 'role' in have %}cast(role as varchar){% else %}cast(null as varchar){% endif %} as role,
        {% if 'created' in have %}{{ utc_timestamp('created') }}{% else %}cast(null as timestamp){% endif %} as created_at,
        {% if 'modified' in have %}{{ utc_timestamp('modified') }}{% else %}cast(null as timestamp){% endif %} as modified_at,
        {% if 'last_seen_at' in have %}{{ utc_timestamp('last_seen_at') }}{% else %}cast(null as timestamp){% endif %} as last_seen_at,
        {% if '_whsync_synced_at' in have %}cast(_whsync_synced_at as timestamp with time zone){% else %}cast(null as timestamp with time zone){% endif %} as _whsync_synced_at
    from source
    {% if not rel %}where false{% endif %}
)

select * from renamed
