{{ config(materialized='table', schema=var('paradime_schema', 'paradime'), alias='workspace') }}
{#- Listed = seen by the latest listing made with the key of the configured workspace that listed it last
    (`listed_by`), even when that listing was empty. Configuring fewer workspaces says nothing of the
    workspaces only the others' keys list. -#}
with latest_listing as (
    select workspace, max(synced_at) as listed_at
    from {{ ref('stg_paradime__workspace_syncs') }}
    where workspaces_listed
    group by workspace
)

select
    w.workspace_uid as uid,
    w.name,
    coalesce(w.last_listed_at >= l.listed_at, false) as is_listed,
    w.last_listed_at,
    w._whsync_synced_at as _synced_at
from {{ ref('stg_paradime__workspaces') }} as w
left join latest_listing as l
    on l.workspace = w.listed_by
