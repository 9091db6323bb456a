{{ config(materialized="view") }}
-- The report layer, shown across practices: per quarter the care group's key indicators (pooled over its
-- practices) beside the reference and the care group's rate a year earlier, with the disclosure rule applied.
with care_group as (
    select quarter, program, indicator_code, indicator_name, sort_order,
           care_group_numerator, care_group_denominator, care_group_rate,
           reference_rate, reference_kind, reference_year, reference_quarter, reference_source,
           reference_is_placeholder, reference_latest_available
    from {{ ref('practice_indicators') }}
    where is_key
    qualify row_number() over (partition by quarter, indicator_code order by practice_agb) = 1
)

select
    now.quarter, now.program, now.indicator_code, now.indicator_name, now.sort_order,
    {{ shown_count('now.care_group_denominator') }} as care_group_denominator,
    {{ count_mark('now.care_group_denominator') }} as care_group_denominator_mark,
    {{ shown_rate('now.care_group_rate', 'now.care_group_numerator', 'now.care_group_denominator') }} as care_group_rate,
    {{ rate_mark('now.care_group_numerator', 'now.care_group_denominator') }} as care_group_rate_mark,
    {{ shown_rate('before.care_group_rate', 'before.care_group_numerator', 'before.care_group_denominator') }}
        as care_group_rate_year_before,
    now.reference_rate,
    {{ shown_rate('now.care_group_rate - now.reference_rate', 'now.care_group_numerator', 'now.care_group_denominator') }}
        as reference_gap_abs,
    now.reference_kind, now.reference_year, now.reference_quarter, now.reference_source,
    now.reference_is_placeholder, now.reference_latest_available
from care_group as now
left join care_group as before
    on before.indicator_code = now.indicator_code and before.quarter = {{ quarter_a_year_before('now.quarter') }}
