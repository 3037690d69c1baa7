{{ config(materialized='view') }}
{#- Benchling's `project` view: archived rows dropped. `is not true` keeps NULL as well as false. -#}
select id, source_id, "archived$", "archive_purpose$", name, created_at, url
from {{ ref('project$raw') }}
where "archived$" is not true
