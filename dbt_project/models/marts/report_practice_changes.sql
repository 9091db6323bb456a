{{ config(materialized="view") }}
-- The report layer, private per practice: what "Wat is veranderd" on a practice report may list. Per quarter x
-- practice x program each key indicator and the coverage beside the quarter before. A key indicator is notable
-- when it moved at least notable_change_pp and out of the previous quarter's 95% interval (one patient at
-- n = 19 moves a rate 5 pp, well within chance); coverage when it moved at least notable_coverage_change_pp.
with indicators as (
    select now.quarter, now.practice_agb, now.program, 'indicator' as measure, now.indicator_code,
           now.indicator_name, now.sort_order, before.rate as value_before, now.rate as value_now,
           coalesce(abs(now.rate - before.rate) >= {{ var('notable_change_pp') }} / 100.0
                    and not now.rate between before.ci_low and before.ci_high, false) as notable
    from {{ ref('practice_indicators') }} as now
    inner join {{ ref('practice_indicators') }} as before
        on before.practice_agb = now.practice_agb and before.indicator_code = now.indicator_code
       and before.quarter = {{ quarter_before('now.quarter') }}
    where now.is_key and now.rate is not null and before.rate is not null
),

coverage as (
    select now.quarter, now.practice_agb, now.program, 'coverage' as measure, null as indicator_code,
           null as indicator_name, null as sort_order, before.coverage as value_before, now.coverage as value_now,
           abs(now.coverage - before.coverage) >= {{ var('notable_coverage_change_pp') }} / 100.0 as notable
    from {{ ref('practice_coverage') }} as now
    inner join {{ ref('practice_coverage') }} as before
        on before.practice_agb = now.practice_agb and before.program = now.program
       and before.quarter = {{ quarter_before('now.quarter') }}
    where now.coverage is not null and before.coverage is not null
)

select * from indicators
union all by name
select * from coverage
