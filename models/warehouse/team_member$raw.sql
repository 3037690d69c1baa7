{{ config(materialized='table') }}
{#- Benchling's `team_member$raw`: one row per (team, member). The API gives memberships no id of
    their own, so `id` is `<team_id>:<user_id>`, stable across syncs. `user_id` may be an app
    (`app_…`): it references principal. -#}
select
    {{ dbt.concat(['team_id', "':'", 'member_id']) }} as id,
    team_id,
    member_id as user_id,
    role,
    _synced_at
from {{ ref('stg_benchling__team_memberships') }}
