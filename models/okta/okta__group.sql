{{ config(materialized='table', schema=var('okta_schema', 'okta'), alias='group') }}
with latest as (
    select max(synced_at) as listed_at from {{ ref('stg_okta__listings') }}
)

select
    g.group_id as id,
    g.name,
    g.description,
    g.type,
    g.created,
    g.last_updated,
    g.last_membership_updated,
    coalesce(g.last_listed_at < l.listed_at, false) as is_deleted,
    g.last_listed_at,
    g._whsync_synced_at as _synced_at
from {{ ref('stg_okta__groups') }} as g
cross join latest as l
