-- Per quarter x practice x program x indicator (RULES.md, Indicators), every loaded quarter in one build.
with practice_programs as (
    select distinct quarter, practice_agb, program from {{ ref('int_denominator') }}
),

counts as (
    select
        quarter,
        practice_agb,
        indicator_code,
        count(*) filter (where in_numerator) as numerator,
        count(*) filter (where in_denominator) as denominator,
        count(*) filter (where exclusion_reason = 'specialist_main_practitioner') as excluded_specialist,
        count(*) filter (where exclusion_reason = 'under_18') as excluded_under_18,
        count(*) filter (where exclusion_reason = 'not_enrolled_on_peildatum') as excluded_not_enrolled,
        count(*) filter (where only_invalid_values) as patients_only_invalid_values
    from {{ ref('int_patient_indicators') }}
    group by all
),

rows as (
    select
        pp.quarter,
        pp.practice_agb,
        pp.program,
        i.indicator_code,
        i.name_nl as indicator_name,
        i.kind,
        i.is_key,
        i.window_months,
        i.sort_order,
        coalesce(c.numerator, 0) as numerator,
        coalesce(c.denominator, 0) as denominator,
        coalesce(c.excluded_specialist, 0) as excluded_specialist,
        coalesce(c.excluded_under_18, 0) as excluded_under_18,
        coalesce(c.excluded_not_enrolled, 0) as excluded_not_enrolled,
        coalesce(c.patients_only_invalid_values, 0) as patients_only_invalid_values
    from practice_programs as pp
    inner join {{ ref('int_indicators') }} as i on i.program = pp.program
    left join counts as c
        on c.quarter = pp.quarter and c.practice_agb = pp.practice_agb and c.indicator_code = i.indicator_code
),

care_group as (
    select quarter, indicator_code, sum(numerator) as care_group_numerator, sum(denominator) as care_group_denominator
    from rows group by all
),

quarters as (
    select distinct quarter, {{ peildatum_of('quarter') }} as peildatum from practice_programs
),

-- per quarter the latest benchmark year not after the year in which its window ends (the day before the
-- peildatum): 2024Q1 measures calendar 2023 and is compared with 2023 (RULES.md; InEen stopped after 2024)
national as (
    select q.quarter, a.indicator_code, a.year as national_year, a.national_rate, a.source as national_source
    from quarters as q
    inner join {{ ref('ref_national_averages') }} as a on a.year <= year(q.peildatum - interval 1 day)
    qualify row_number() over (partition by q.quarter, a.indicator_code order by a.year desc) = 1
)

select
    r.quarter,
    {{ peildatum_of('r.quarter') }} as peildatum,
    r.practice_agb,
    r.program,
    r.indicator_code,
    r.indicator_name,
    r.kind,
    r.is_key,
    r.window_months,
    r.sort_order,
    r.numerator,
    r.denominator,
    case when r.denominator > 0 then r.numerator / r.denominator end as rate,
    {{ wilson_low('r.numerator', 'r.denominator') }} as ci_low,
    {{ wilson_high('r.numerator', 'r.denominator') }} as ci_high,
    cg.care_group_numerator,
    cg.care_group_denominator,
    case when cg.care_group_denominator > 0 then cg.care_group_numerator / cg.care_group_denominator end
        as care_group_rate,
    n.national_rate,
    n.national_year,
    n.national_source,
    n.national_year < year({{ peildatum_of('r.quarter') }} - interval 1 day) as national_from_earlier_year,
    case when r.denominator > 0 then r.numerator / r.denominator - n.national_rate end as gap_abs,
    case when r.denominator > 0 and n.national_rate > 0
         then (r.numerator / r.denominator - n.national_rate) / n.national_rate end as gap_rel,
    r.denominator < {{ var('min_denominator') }} as too_small,
    -- compared exactly: numerator < national_rate * (1 - lag_threshold) * denominator, in decimals
    coalesce(
        r.is_key
        and r.denominator >= {{ var('min_denominator') }}
        and cast(r.numerator as decimal(18, 6))
            < cast(n.national_rate as decimal(18, 6)) * (1 - cast({{ var('lag_threshold') }} as decimal(18, 6)))
              * r.denominator,
        false) as lagging,
    r.excluded_specialist,
    r.excluded_under_18,
    r.excluded_not_enrolled,
    r.patients_only_invalid_values,
    '{{ var("policy_version") }}' as policy_version
from rows as r
left join care_group as cg using (quarter, indicator_code)
left join national as n using (quarter, indicator_code)
