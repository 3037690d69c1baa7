{{ config(materialized='table') }}
{#- `user_activity$raw`: one row per Benchling user checked so far (`GET /users/{id}/activity`). The raw
    table is merged by user id, so a user not re-checked by a sync keeps the row of its last check. -#}
select
    user_id,
    last_seen,
    checked_at,
    suspended_when_checked as _suspended_when_checked,
    _synced_at
from {{ ref('stg_benchling__user_activity') }}
