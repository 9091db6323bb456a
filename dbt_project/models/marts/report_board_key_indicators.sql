{{ config(materialized="view") }}
-- The report layer, shown across practices: per quarter x practice the key indicators for the board's heat map
-- and funnel plots, with the disclosure rule applied (macros/disclosure.sql). A rate, and everything computed
-- from it (its gap to the reference, its interval), is null unless it may stand beside its denominator.
select
    quarter, program, practice_agb, indicator_code, indicator_name, sort_order,
    {{ shown_count('denominator') }} as denominator,
    {{ count_mark('denominator') }} as denominator_mark,
    {{ shown_rate('rate', 'numerator', 'denominator') }} as rate,
    {{ rate_mark('numerator', 'denominator') }} as rate_mark,
    {{ shown_rate('reference_gap_abs', 'numerator', 'denominator') }} as reference_gap_abs,
    -- the policy's verdict is shown for every practice (the heat map's "!"); it bounds a hidden rate at most
    lagging,
    care_group_rate
from {{ ref('practice_indicators') }}
where is_key
