{{ config(materialized='table') }}
{#- Benchling's `folder$raw`: every folder, archived or not. `source_id` is the folder's project
    (where its permissions come from). `created_at` and `modified_at` are NULL: the API's Folder
    object has neither. -#}
select
    folder_id as id,
    project_id as source_id,
    is_archived as {{ adapter.quote('archived$') }},
    archive_reason as {{ adapter.quote('archive_purpose$') }},
    {{ typed_null('timestamp') }} as created_at,
    {{ typed_null('timestamp') }} as modified_at,
    name,
    parent_folder_id,
    _synced_at
from {{ ref('stg_benchling__folders') }}
