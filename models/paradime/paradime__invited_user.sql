{{ config(materialized='table', schema=var('paradime_schema', 'paradime'), alias='invited_user') }}
select
    i.workspace,
    i.workspace_uid,
    i.email,
    i.account_type,
    i.invite_status,
    coalesce(i.last_listed_at >= s.latest_sync_at, false) as is_pending,
    i.last_listed_at,
    i._whsync_synced_at as _synced_at
from {{ ref('stg_paradime__invited_users') }} as i
left join (select workspace, max(synced_at) as latest_sync_at from {{ ref('stg_paradime__workspace_syncs') }} group by workspace) as s
    on s.workspace = i.workspace
