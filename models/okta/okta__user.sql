{{ config(materialized='table', schema=var('okta_schema', 'okta'), alias='user') }}
{#- Every Okta user ever listed, in every status. `is_deleted`: gone from Okta since (the latest complete
    listing of the org did not return it); Okta deletes only DEPROVISIONED users. -#}
with latest as (
    select max(synced_at) as listed_at from {{ ref('stg_okta__listings') }}
)

select
    u.user_id as id,
    u.login,
    u.email,
    u.first_name,
    u.last_name,
    u.status,
    u.created,
    u.activated,
    u.status_changed,
    u.last_login,
    u.last_updated,
    coalesce(u.last_listed_at < l.listed_at, false) as is_deleted,
    u.last_listed_at,
    u._whsync_synced_at as _synced_at
from {{ ref('stg_okta__users') }} as u
cross join latest as l
