{{ config(materialized='view') }}
select id, name, description
from {{ ref('team$raw') }}
