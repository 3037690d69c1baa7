{#- Generic test: the column is a key: never null and never twice, in one query. dbt's `unique` and `not_null`
    would be two tests, each one more node that every sync's build compiles and runs (a column listed with
    both was 38 of the project's 141 data tests). A failing row says which of the two it is. -#}
{% test unique_not_null(model, column_name) %}
select {{ column_name }} as key_value, 'null' as problem
from {{ model }}
where {{ column_name }} is null
union all
select {{ column_name }} as key_value, 'duplicate' as problem
from {{ model }}
where {{ column_name }} is not null
group by {{ column_name }}
having count(*) > 1
{% endtest %}
