{{ config(materialized='table', schema=var('okta_schema', 'okta'), alias='group_member') }}
with latest as (
    select max(synced_at) as listed_at from {{ ref('stg_okta__listings') }}
)

select
    m.group_id,
    m.user_id,
    coalesce(m.last_listed_at >= l.listed_at, true) as is_member,
    m.last_listed_at,
    m._whsync_synced_at as _synced_at
from {{ ref('stg_okta__group_members') }} as m
cross join latest as l
