{#- Where a model's custom schema goes.

    Production targets — whsync's own (`duckdb`, `postgres`, which `whsync sync|build` points at the
    schemas it chose and passes as vars) and any target named in the `production_targets` var (default
    also `prod`, `production`) — use a model's schema verbatim: the warehouse in `main`/`public` (or
    `--schema`), staging in `staging`, Paradime in `paradime`, as Benchling-style SQL expects.

    Every other target (a developer's `dev`, a CI run) prefixes the custom schema with its own target
    schema, as dbt does by default: `dev_alice_staging`, `ci_paradime`. Two such targets never write
    into each other's (or production's) schemas. The warehouse models' schema defaults to the target
    schema itself, which is kept as is. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- set production = target.name in var('production_targets', ['duckdb', 'postgres', 'prod', 'production']) -%}
    {%- if custom_schema_name is none or (custom_schema_name | trim) == target.schema -%}
        {{ target.schema }}
    {%- elif production -%}
        {{ custom_schema_name | trim }}
    {%- else -%}
        {{ target.schema }}_{{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
