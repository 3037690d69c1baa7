{#- True when `relation` (a `ref(...)`) exists in the database now. Models that join several sources use
    it to leave out the branch of a source that was never synced (its models are then not built). -#}
{% macro relation_exists(relation) -%}
    {{ return(execute and load_relation(relation) is not none) }}
{%- endmacro %}
