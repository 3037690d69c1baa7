{{ config(materialized='view') }}
{#- Benchling's `folder` view: archived rows dropped. `is not true` keeps NULL as well as false. -#}
select id, source_id, {{ adapter.quote('archived$') }}, {{ adapter.quote('archive_purpose$') }}, created_at, modified_at, name, parent_folder_id
from {{ ref('folder$raw') }}
where {{ adapter.quote('archived$') }} is not true
