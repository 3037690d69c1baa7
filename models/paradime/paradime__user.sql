{{ config(materialized='table', schema=var('paradime_schema', 'paradime'), alias='user') }}
select
    u.workspace,
    u.workspace_uid,
    u.user_uid as uid,
    u.email,
    u.name,
    u.account_type,
    coalesce(u.last_listed_at >= s.latest_sync_at, false) as is_active,
    u.last_listed_at,
    u._whsync_synced_at as _synced_at
from {{ ref('stg_paradime__active_users') }} as u
left join (select workspace, max(synced_at) as latest_sync_at from {{ ref('stg_paradime__workspace_syncs') }} group by workspace) as s
    on s.workspace = u.workspace
