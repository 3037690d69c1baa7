{{ config(materialized='view') }}
{#- Benchling's `project` view: archived rows dropped. `is not true` keeps NULL as well as false. -#}
select id, source_id, {{ adapter.quote('archived$') }}, {{ adapter.quote('archive_purpose$') }}, name, created_at, url
from {{ ref('project$raw') }}
where {{ adapter.quote('archived$') }} is not true
