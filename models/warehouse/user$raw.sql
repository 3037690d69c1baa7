{{ config(materialized='table') }}
{#- Benchling's `user$raw`: every user. `created_at` is NULL: the API's User object has no
    creation time (shared/reference/benchling-api.md §3.1). -#}
select
    user_id as id,
    handle,
    name,
    email,
    is_suspended,
    {{ typed_null('timestamp') }} as created_at,
    _synced_at
from {{ ref('stg_benchling__users') }}
