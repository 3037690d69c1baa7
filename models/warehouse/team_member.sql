{{ config(materialized='view') }}
select id, team_id, user_id, role
from {{ ref('team_member$raw') }}
