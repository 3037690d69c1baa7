{#- Generic test: `columns` together are the model's key: no column is ever null and no combination occurs
    twice, in one query. A `not_null` on each column and `unique_combination_of_columns` would be one test per
    column and one more, each a node that every sync's build compiles and runs (8 keys of two columns were 24
    of the project's tests). A failing row says which it is: `null <column>` or `duplicate`. -#}
{% test unique_key(model, columns) %}
{%- for column in columns %}
select {{ columns | join(', ') }}, 'null {{ column }}' as problem
from {{ model }}
where {{ column }} is null
union all
{%- endfor %}
select {{ columns | join(', ') }}, 'duplicate' as problem
from {{ model }}
where {% for column in columns %}{{ column }} is not null{{ ' and ' if not loop.last }}{% endfor %}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
