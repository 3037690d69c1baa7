{{ config(materialized='table') }}
{#- `person`: one row per email (lower-cased, trimmed) over `access`. The directory (Okta, system `okta`) is
    not counted in `active_in`/`inactive_in`: it is where leaving is recorded, so it has its own columns
    (from `int_person__directory`, only when Okta was synced; else they are NULL and `person` is as before). -#}
-- depends_on: {{ ref('int_person__directory') }}
{%- set directory = model.resource_type != 'unit_test' and relation_exists(ref('int_person__directory')) %}
with per_system as (
    select
        email,
        system,
        max(case when status = 'active' then 1 else 0 end) as has_active,
        min(case when status in ('suspended', 'removed') then 1 else 0 end) as all_inactive,
        max(case when system = 'benchling' then last_seen end) as last_seen
    from {{ ref('access') }}
    group by email, system
),

named as (
    -- the name of an active account first, then Benchling's, Paradime's, Bencher's, the directory's
    select
        email,
        name,
        row_number() over (
            partition by email
            order by
                case when name is null then 1 else 0 end,
                case when status = 'active' then 0 else 1 end,
                case system when 'benchling' then 0 when 'paradime' then 1 when 'bencher' then 2 else 3 end,
                account_id
        ) as rn
    from {{ ref('access') }}
),

totals as (
    select
        email,
        {{ dbt.cast("coalesce(sum(case when system <> 'okta' then has_active end), 0)", sql_type('integer')) }} as active_in,
        {{ dbt.cast("coalesce(sum(case when system <> 'okta' then all_inactive end), 0)", sql_type('integer')) }} as inactive_in,
        max(last_seen) as last_seen
    from per_system
    group by email
)

select
    t.email,
    n.name,
    t.active_in,
    t.inactive_in,
    t.last_seen,
    (t.inactive_in > 0 and t.active_in > 0)
{%- if directory %}
        or (t.active_in > 0 and coalesce(d.directory_left, false))
{%- endif %} as offboarding_gap,
{%- if directory %}
    d.directory_status,
    d.directory_status_changed,
    d.directory_last_login,
    d.left_at,
    (t.active_in > 0 and not coalesce(d.directory_active, false) and not coalesce(d.directory_left, false)) as outside_directory
from totals as t
left join named as n on n.email = t.email and n.rn = 1
left join {{ ref('int_person__directory') }} as d on d.email = t.email
{%- else %}
    {{ typed_null('string') }} as directory_status,
    {{ typed_null('timestamp') }} as directory_status_changed,
    {{ typed_null('timestamp') }} as directory_last_login,
    {{ typed_null('timestamp') }} as left_at,
    {{ typed_null('boolean') }} as outside_directory
from totals as t
left join named as n on n.email = t.email and n.rn = 1
{%- endif %}
