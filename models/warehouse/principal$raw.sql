{{ config(materialized='table') }}
{#- Benchling's `principal$raw`: users and apps. Apps have no handle, email or suspension in the
    API, so those are NULL; an app's `created_at` is its `createdAt`. -#}
select
    id,
    handle,
    name,
    email,
    is_suspended,
    created_at,
    'user' as _principal_type,
    _synced_at
from {{ ref('user$raw') }}

union all

select
    app_id as id,
    {{ typed_null('string') }} as handle,
    name,
    {{ typed_null('string') }} as email,
    {{ typed_null('boolean') }} as is_suspended,
    created_at,
    'app' as _principal_type,
    _synced_at
from {{ ref('stg_benchling__apps') }}
