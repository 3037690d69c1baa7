{{ config(materialized='table', schema=var('bencher_schema', 'bencher'), alias='organization') }}
select
    organization_uuid as uuid,
    name,
    slug,
    created_at,
    modified_at,
    claimed_at,
    has_license,
    last_seen_at >= max(last_seen_at) over () as is_listed,
    last_seen_at,
    _whsync_synced_at as _synced_at
from {{ ref('stg_bencher__organizations') }}
