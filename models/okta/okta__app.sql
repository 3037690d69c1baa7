{{ config(materialized='table', schema=var('okta_schema', 'okta'), alias='app') }}
with latest as (
    select max(synced_at) as listed_at from {{ ref('stg_okta__listings') }}
)

select
    a.app_id as id,
    a.name,
    a.label,
    a.status,
    a.sign_on_mode,
    a.created,
    a.last_updated,
    coalesce(a.last_listed_at < l.listed_at, false) as is_deleted,
    a.last_listed_at,
    a._whsync_synced_at as _synced_at
from {{ ref('stg_okta__apps') }} as a
cross join latest as l
