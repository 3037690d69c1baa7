{{ config(materialized='table') }}
{#- Benchling's `project$raw`: every project, archived or not. `source_id` is the project's own id
    (a project's permissions come from itself). `created_at` and `url` are NULL: the API's Project
    object has neither. -#}
select
    project_id as id,
    project_id as source_id,
    is_archived as {{ adapter.quote('archived$') }},
    archive_reason as {{ adapter.quote('archive_purpose$') }},
    name,
    {{ typed_null('timestamp') }} as created_at,
    {{ typed_null('string') }} as url,
    owner_id as _owner_id,
    _synced_at
from {{ ref('stg_benchling__projects') }}
