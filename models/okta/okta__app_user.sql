{{ config(materialized='table', schema=var('okta_schema', 'okta'), alias='app_user') }}
with latest as (
    select max(synced_at) as listed_at from {{ ref('stg_okta__listings') }}
)

select
    au.app_id,
    au.user_id,
    au.status,
    au.scope,
    au.app_username,
    au.status_changed,
    coalesce(au.last_listed_at >= l.listed_at, true) as is_assigned,
    au.last_listed_at,
    au._whsync_synced_at as _synced_at
from {{ ref('stg_okta__app_users') }} as au
cross join latest as l
