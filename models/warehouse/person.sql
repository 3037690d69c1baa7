{{ config(materialized='table') }}
{#- `person`: one row per email (lower-cased, trimmed) over `access`. -#}
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
    -- the name of an active account first, then Benchling's, Paradime's, Bencher's
    select
        email,
        name,
        row_number() over (
            partition by email
            order by
                case when name is null then 1 else 0 end,
                case when status = 'active' then 0 else 1 end,
                case system when 'benchling' then 0 when 'paradime' then 1 else 2 end,
                account_id
        ) as rn
    from {{ ref('access') }}
),

totals as (
    select
        email,
        {{ dbt.cast('sum(has_active)', sql_type('integer')) }} as active_in,
        {{ dbt.cast('sum(all_inactive)', sql_type('integer')) }} as inactive_in,
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
    (t.inactive_in > 0 and t.active_in > 0) as offboarding_gap
from totals as t
left join named as n on n.email = t.email and n.rn = 1
