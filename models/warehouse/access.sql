{{ config(materialized='table') }}
{#- `access`: one account of a person in one system and scope (see the yml). Each system's rows come from
    its `int_access__<system>` view; a system that was never synced has none and contributes no rows. -#}
-- depends_on: {{ ref('int_access__benchling') }}
-- depends_on: {{ ref('int_access__paradime') }}
-- depends_on: {{ ref('int_access__bencher') }}
{%- set parts = [] %}
{%- for system in ['benchling', 'paradime', 'bencher'] %}
    {%- if relation_exists(ref('int_access__' ~ system)) %}{% do parts.append(ref('int_access__' ~ system)) %}{% endif %}
{%- endfor %}

select
    cast(email as varchar) as email,
    cast(system as varchar) as system,
    cast(scope as varchar) as scope,
    cast(account_id as varchar) as account_id,
    cast(name as varchar) as name,
    cast(status as varchar) as status,
    cast(role as varchar) as role,
    cast(last_seen as timestamp) as last_seen
from (
    select
        cast(null as varchar) as email, cast(null as varchar) as system, cast(null as varchar) as scope,
        cast(null as varchar) as account_id, cast(null as varchar) as name, cast(null as varchar) as status,
        cast(null as varchar) as role, cast(null as timestamp) as last_seen
    where 1 = 0
    {%- for part in parts %}
    union all
    select email, system, scope, account_id, name, status, role, last_seen from {{ part }}
    {%- endfor %}
) as accounts
