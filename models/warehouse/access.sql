{{ config(materialized='table') }}
{#- `access`: one account of a person in one system and scope (see the yml). Each system's rows come from
    its `int_access__<system>` view; a system that was never synced has none and contributes no rows. -#}
-- depends_on: {{ ref('int_access__benchling') }}
-- depends_on: {{ ref('int_access__paradime') }}
-- depends_on: {{ ref('int_access__bencher') }}
-- depends_on: {{ ref('int_access__okta') }}
{%- set parts = [] %}
{%- for system in ['benchling', 'paradime', 'bencher', 'okta'] %}
    {%- if relation_exists(ref('int_access__' ~ system)) %}{% do parts.append(ref('int_access__' ~ system)) %}{% endif %}
{%- endfor %}
{%- set columns = [('email', 'string'), ('system', 'string'), ('scope', 'string'), ('account_id', 'string'),
                   ('name', 'string'), ('status', 'string'), ('role', 'string'), ('last_seen', 'timestamp')] %}

select
{%- for col, kind in columns %}
    {{ dbt.cast(col, sql_type(kind)) }} as {{ col }}{{ "," if not loop.last }}
{%- endfor %}
from (
    select
    {%- for col, kind in columns %}
        {{ typed_null(kind) }} as {{ col }}{{ "," if not loop.last }}
    {%- endfor %}
    where 1 = 0
    {%- for part in parts %}
    union all
    select {{ columns | map(attribute=0) | join(', ') }} from {{ part }}
    {%- endfor %}
) as accounts
