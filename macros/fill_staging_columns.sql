{#- The whole body of a "rename and cast only" staging model over a raw table that dlt creates (and
    widens) only once a sync loads a value for it, in the spirit of Fivetran's `fill_staging_columns`.

    `source_relation`: the model's `source(...)`. `columns`: in output order, one
    `(raw column, type[, alias])` each; the alias defaults to the raw column's name. The type
    `utc_timestamp` sends the value through the `utc_timestamp` macro (a naive UTC `timestamp`);
    any other is a kind of `sql_type` (`string`, `timestamptz`, `boolean`, `bigint`), cast with `dbt.cast`.

    A column the raw table does not have (yet) is a typed NULL; a missing raw table gives the same
    columns and no rows (`where false`), so downstream models never break. -#}
{% macro fill_staging_columns(source_relation, columns) -%}
{%- set rel = adapter.get_relation(source_relation.database, source_relation.schema, source_relation.identifier) if execute else none -%}
{%- set have = (adapter.get_columns_in_relation(rel) | map(attribute='name') | map('lower') | list) if rel else [] -%}
with source as (
    {% if rel %}select * from {{ source_relation }}{% else %}select 1 as _none{% endif %}
),

renamed as (
    select
    {%- for col in columns %}
        {%- set raw, type = col[0], col[1] %}
        {%- set alias = col[2] if col | length > 2 else raw %}
        {% if type == 'utc_timestamp' -%}
            {%- if raw | lower in have %}{{ utc_timestamp(raw) }}{% else %}{{ typed_null('timestamp') }}{% endif -%}
        {%- else -%}
            {%- if raw | lower in have %}{{ dbt.cast(raw, sql_type(type)) }}{% else %}{{ typed_null(type) }}{% endif -%}
        {%- endif %} as {{ alias }}{{ "," if not loop.last }}
    {%- endfor %}
    from source
    {% if not rel %}where false{% endif %}
)

select * from renamed
{%- endmacro %}
