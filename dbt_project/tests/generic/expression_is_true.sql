{# An invariant every row must satisfy, e.g. parts adding up to their total. #}
{% test expression_is_true(model, expression) %}
select * from {{ model }} where not ({{ expression }})
{% endtest %}
