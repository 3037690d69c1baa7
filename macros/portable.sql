{#- Portable SQL: what differs between warehouses is decided in macros like these, never in a model.

    `for_dialect(dispatched, name)`: `dispatched` is `adapter.dispatch(name, 'whsync')`, dbt's choice for the
    adapter; with the `whsync_sql_dialect` var set, the `whsync` macro `<dialect>__<name>` (else
    `default__<name>`) instead. The portability test (tests/warehouse/test_portable_sql.py) renders the
    project for Snowflake and BigQuery that way, through the DuckDB adapter, and parses the result. -#}
{% macro for_dialect(dispatched, name) -%}
    {%- set dialect = var('whsync_sql_dialect', none) -%}
    {%- if dialect is none -%}
        {{ return(dispatched) }}
    {%- endif -%}
    {{ return(context.get(dialect ~ '__' ~ name) or context.get('default__' ~ name)) }}
{%- endmacro %}

{#- `sql_type(kind)`: a column type by kind (`string`, `timestamp` (naive), `timestamptz`, `boolean`, `bigint`, `integer`).
    DuckDB and PostgreSQL keep the spellings whsync's contracts declare (`varchar`, ...); any other warehouse
    gets dbt's cross-database types (`dbt.type_string()`, ...). -#}
{% macro sql_type(kind) -%}
    {{ return(for_dialect(adapter.dispatch('sql_type', 'whsync'), 'sql_type')(kind)) }}
{%- endmacro %}

{% macro default__sql_type(kind) -%}
    {{ return({'string': dbt.type_string(), 'timestamp': dbt.type_timestamp(), 'boolean': dbt.type_boolean(),
               'bigint': dbt.type_bigint(), 'integer': dbt.type_int(), 'timestamptz': 'timestamp with time zone'}[kind]) }}
{%- endmacro %}

{% macro postgres__sql_type(kind) -%}
    {{ return({'string': 'varchar', 'timestamp': 'timestamp', 'boolean': 'boolean', 'bigint': 'bigint',
               'integer': 'integer', 'timestamptz': 'timestamp with time zone'}[kind]) }}
{%- endmacro %}

{% macro duckdb__sql_type(kind) -%}
    {{ return(postgres__sql_type(kind)) }}
{%- endmacro %}

{% macro snowflake__sql_type(kind) -%}
    {{ return({'timestamp': 'timestamp_ntz', 'timestamptz': 'timestamp_tz'}.get(kind) or default__sql_type(kind)) }}
{%- endmacro %}

{% macro bigquery__sql_type(kind) -%}
    {{ return({'string': 'string', 'timestamp': 'datetime', 'boolean': 'bool', 'bigint': 'int64', 'integer': 'int64',
               'timestamptz': 'timestamp'}[kind]) }}
{%- endmacro %}

{#- `typed_null(kind)`: a NULL of that column type. -#}
{% macro typed_null(kind) -%}
    {{ dbt.cast('null', sql_type(kind)) }}
{%- endmacro %}
