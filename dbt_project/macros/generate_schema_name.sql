{# Schemas are named exactly `staging`, `intermediate`, `marts` (and `reference` for seeds): other people's
   queries rely on `marts.practice_indicators`, not on a target-prefixed name. #}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
