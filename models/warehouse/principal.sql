{{ config(materialized='view') }}
select id, handle, name, email, is_suspended, created_at
from {{ ref('principal$raw') }}
