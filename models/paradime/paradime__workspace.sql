{{ config(materialized='table', schema=var('paradime_schema', 'paradime'), alias='workspace') }}
select
    workspace_uid as uid,
    name,
    last_seen_at >= max(last_seen_at) over () as is_listed,
    last_seen_at,
    _whsync_synced_at as _synced_at
from {{ ref('stg_paradime__workspaces') }}
