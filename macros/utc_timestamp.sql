{#- An ISO 8601 / RFC 3339 string from the API (e.g. `2024-01-01T00:00:00.000Z`) as a naive UTC
    `timestamp`, the type of Benchling's warehouse. Never a plain cast: DuckDB would convert
    through the session's time zone. One implementation per warehouse (see `for_dialect`). -#}
{% macro utc_timestamp(expr) -%}
    {{ return(for_dialect(adapter.dispatch('utc_timestamp', 'whsync'), 'utc_timestamp')(expr)) }}
{%- endmacro %}

{% macro default__utc_timestamp(expr) -%}
    cast(cast({{ expr }} as timestamp with time zone) at time zone 'UTC' as timestamp)
{%- endmacro %}

{% macro duckdb__utc_timestamp(expr) -%}
    timezone('UTC', cast({{ expr }} as timestamptz))
{%- endmacro %}

{% macro snowflake__utc_timestamp(expr) -%}
    cast(convert_timezone('UTC', cast({{ expr }} as timestamp_tz)) as timestamp_ntz)
{%- endmacro %}

{% macro bigquery__utc_timestamp(expr) -%}
    datetime(timestamp({{ expr }}), 'UTC')
{%- endmacro %}
