{{ config(materialized='table', schema=var('bencher_schema', 'bencher'), alias='organization') }}
{#- Listed = seen by the latest sync that listed every organization visible to the token. A sync limited to
    BENCHER_ORGANIZATIONS says nothing of the others; before any full listing, every organization is listed. -#}
with latest_full_listing as (
    select max(synced_at) as listed_at
    from {{ ref('stg_bencher__listings') }}
    where scope = 'all'
)

select
    o.organization_uuid as uuid,
    o.name,
    o.slug,
    o.created_at,
    o.modified_at,
    o.claimed_at,
    o.has_license,
    coalesce(o.last_listed_at >= l.listed_at, true) as is_listed,
    o.last_listed_at,
    o._whsync_synced_at as _synced_at
from {{ ref('stg_bencher__organizations') }} as o
cross join latest_full_listing as l
