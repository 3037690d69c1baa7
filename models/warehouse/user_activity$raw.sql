{{ config(materialized='table') }}
{#- `user_activity$raw`: one row per Benchling user checked so far (`GET /users/{id}/activity`). The raw
    table is merged by user id, so a user not re-checked by a sync keeps the row of its last check.
    No `user_activity$history`: activity is not access (history records who could reach what), and a
    version per check would grow by up to the activity budget every sync while saying only that
    `last_seen`/`checked_at` moved; `access.last_seen` and `checked_at` carry what the questions need. -#}
select
    user_id,
    last_seen,
    checked_at,
    suspended_when_checked as _suspended_when_checked,
    coalesce(not_found, false) as _not_found,
    _synced_at
from {{ ref('stg_benchling__user_activity') }}
