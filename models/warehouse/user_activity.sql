{{ config(materialized='view') }}
select user_id, last_seen, checked_at
from {{ ref('user_activity$raw') }}
