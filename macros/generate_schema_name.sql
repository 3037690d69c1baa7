{#- A model's `schema` config is used verbatim (`staging`, `paradime`, ...), not prefixed with the
    target schema as dbt does by default: the warehouse lives in `main`/`public`, staging in `staging`. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
