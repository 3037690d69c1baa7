{{ config(materialized='table', schema=var('bencher_schema', 'bencher'), alias='member') }}
select
    m.organization_uuid,
    m.organization_slug,
    m.user_uuid as uuid,
    m.name,
    m.slug,
    m.email,
    m.role,
    m.created_at,
    m.modified_at,
    coalesce(m.last_listed_at >= o.last_listed_at, false) as is_member,
    m.last_listed_at,
    m._whsync_synced_at as _synced_at
from {{ ref('stg_bencher__members') }} as m
left join {{ ref('stg_bencher__organizations') }} as o
    on o.organization_uuid = m.organization_uuid
