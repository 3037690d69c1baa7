{{ config(materialized='view') }}
{#- Benchling's `user` view: no filter; the documented columns only. -#}
select id, handle, name, email, is_suspended, created_at
from {{ ref('user$raw') }}
