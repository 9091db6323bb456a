{# Quarters are a column everywhere: one dbt invocation builds every loaded quarter, so a quarter's result
   never depends on which quarter was run last. The peildatum (first day) is derived from the `YYYYQn`
   text wherever it is needed. #}
{% macro peildatum_of(quarter_expr) -%}
    make_date(cast(left({{ quarter_expr }}, 4) as integer), (cast(right({{ quarter_expr }}, 1) as integer) - 1) * 3 + 1, 1)
{%- endmacro %}

{% macro quarter_of(date_expr) -%}
    (cast(year({{ date_expr }}) as varchar) || 'Q' || cast(quarter({{ date_expr }}) as varchar))
{%- endmacro %}

{# Wilson score interval (95%): sensible at small n and at rates of 0 or 1, unlike the normal one.
   Clamped to [0, 1]: at a rate of exactly 0 or 1 floating point lands a hair outside. #}
{% macro wilson_low(x, n, z=1.959963984540054) -%}
    case when {{ n }} > 0 then greatest(0.0,
        ((cast({{ x }} as double) / {{ n }}) + {{ z }}*{{ z }} / (2.0 * {{ n }})
         - {{ z }} * sqrt((cast({{ x }} as double) / {{ n }}) * (1 - cast({{ x }} as double) / {{ n }}) / {{ n }}
                          + {{ z }}*{{ z }} / (4.0 * {{ n }} * {{ n }})))
        / (1 + {{ z }}*{{ z }} / {{ n }}))
    end
{%- endmacro %}

{% macro wilson_high(x, n, z=1.959963984540054) -%}
    case when {{ n }} > 0 then least(1.0,
        ((cast({{ x }} as double) / {{ n }}) + {{ z }}*{{ z }} / (2.0 * {{ n }})
         + {{ z }} * sqrt((cast({{ x }} as double) / {{ n }}) * (1 - cast({{ x }} as double) / {{ n }}) / {{ n }}
                          + {{ z }}*{{ z }} / (4.0 * {{ n }} * {{ n }})))
        / (1 + {{ z }}*{{ z }} / {{ n }}))
    end
{%- endmacro %}

{# The same quarter a year earlier: 2025Q3 -> 2024Q3 (the policy judges a quarter against that one). #}
{% macro quarter_a_year_before(quarter_expr) -%}
    (cast(cast(left({{ quarter_expr }}, 4) as integer) - 1 as varchar) || right({{ quarter_expr }}, 2))
{%- endmacro %}

{# The quarter before: 2025Q1 -> 2024Q4 (what a practice report compares with under "Wat is veranderd"). #}
{% macro quarter_before(quarter_expr) -%}
    (case when right({{ quarter_expr }}, 1) = '1'
          then cast(cast(left({{ quarter_expr }}, 4) as integer) - 1 as varchar) || 'Q4'
          else left({{ quarter_expr }}, 5) || cast(cast(right({{ quarter_expr }}, 1) as integer) - 1 as varchar) end)
{%- endmacro %}
