{{ config(materialized='table') }}
{#- Benchling's `team$raw`. `description` is NULL: the API's Team object has only id, name and
    organization. -#}
select
    team_id as id,
    name,
    {{ typed_null('string') }} as description,
    organization_id as _organization_id,
    _synced_at
from {{ ref('stg_benchling__teams') }}
