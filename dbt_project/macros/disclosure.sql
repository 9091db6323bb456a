{#- RULES.md, Disclosure: the one place that decides what a cross-practice output may show. The board's tables
    (marts.report_board_*) are built through these macros, so a suppressed count is never stored beside what is
    shown, and the report code only renders.

    Counts from 1 to suppress_below - 1 are small: not shown, marked '<suppress_below'. Suppression is
    complementary: nothing shown beside a small count may give it back. A rate beside its denominator is hidden
    when either count is small (denominator x rate = numerator); of a total with two parts (assessed = with
    care + empty records) one small part hides the other part too (total minus the other gives it back), and
    the rate from them. A hidden value that is not itself small is marked '–'. -#}

{% macro is_small(n) -%}
    coalesce({{ n }} between 1 and {{ var('suppress_below') }} - 1, false)
{%- endmacro %}

{% macro small_mark() -%}
    '<' || {{ var('suppress_below') }}
{%- endmacro %}

{#- a count standing alone (no total or rate beside it) -#}
{% macro shown_count(n) -%}
    case when {{ is_small(n) }} then null else {{ n }} end
{%- endmacro %}

{% macro count_mark(n) -%}
    case when {{ is_small(n) }} then {{ small_mark() }} end
{%- endmacro %}

{#- whether a rate may stand beside its denominator (or be plotted against it) -#}
{% macro rate_is_shown(numerator, denominator) -%}
    (coalesce({{ denominator }}, 0) > 0 and not {{ is_small(numerator) }} and not {{ is_small(denominator) }})
{%- endmacro %}

{% macro shown_rate(rate, numerator, denominator) -%}
    case when {{ rate_is_shown(numerator, denominator) }} then {{ rate }} end
{%- endmacro %}

{% macro rate_mark(numerator, denominator) -%}
    case when {{ is_small(denominator) }} then {{ small_mark() }}
         when coalesce({{ denominator }}, 0) > 0 and not {{ rate_is_shown(numerator, denominator) }} then '–' end
{%- endmacro %}

{#- a total and its two parts: a small total hides everything, one small part hides both parts -#}
{% macro parts_hidden(total, part_a, part_b) -%}
    ({{ is_small(total) }} or {{ is_small(part_a) }} or {{ is_small(part_b) }})
{%- endmacro %}

{% macro shown_part(part, total, part_a, part_b) -%}
    case when {{ parts_hidden(total, part_a, part_b) }} then null else {{ part }} end
{%- endmacro %}

{% macro part_mark(part, total, part_a, part_b) -%}
    case when {{ is_small(total) }} then '–' when {{ is_small(part) }} then {{ small_mark() }}
         when {{ parts_hidden(total, part_a, part_b) }} then '–' end
{%- endmacro %}
