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

-- per quarter and kind (national | target) the latest value not after the year in which the quarter's window
-- ends (the day before the peildatum): 2024Q1 measures calendar 2023 and is compared with 2023; InEen stopped
-- after 2024, so 2025 and later quarters get 2024, "laatst beschikbaar" (RULES.md, Reference after InEen)
latest_of_kind as (
    select q.quarter, v.kind, v.indicator_code, v.year, v.rate, v.source, v.is_placeholder
    from quarters as q
    inner join {{ ref('int_reference_values') }} as v on v.year <= year(q.peildatum - interval 1 day)
    qualify row_number() over (partition by q.quarter, v.kind, v.indicator_code order by v.year desc) = 1
),

national as (
    select quarter, indicator_code, year as national_year, rate as national_rate, source as national_source,
           is_placeholder as national_is_placeholder
    from latest_of_kind where kind = 'national'
),

-- what the 20% rule compares with: the policy's reference.kind
reference as (
{%- if var('reference_kind') == 'national_latest' %}
    select quarter, indicator_code, national_year as reference_year, cast(null as varchar) as reference_quarter,
           national_rate as reference_rate, national_source as reference_source,
           national_is_placeholder as reference_is_placeholder
    from national
{%- elif var('reference_kind') == 'targets' %}
    select quarter, indicator_code, year as reference_year, cast(null as varchar) as reference_quarter,
           rate as reference_rate, source as reference_source, is_placeholder as reference_is_placeholder
    from latest_of_kind where kind = 'target'
{%- elif var('reference_kind') == 'care_group_previous_year' %}
    -- the care group's own pooled rate of the same quarter a year earlier (none when it is not loaded)
    select cg.quarter, cg.indicator_code, cast(left(prev.quarter, 4) as integer) as reference_year,
           prev.quarter as reference_quarter,
           prev.care_group_numerator / prev.care_group_denominator as reference_rate,
           'zorggroep ' || prev.quarter as reference_source, false as reference_is_placeholder
    from care_group as cg
    inner join care_group as prev
        on prev.quarter = {{ quarter_a_year_before('cg.quarter') }} and prev.indicator_code = cg.indicator_code
    where prev.care_group_denominator > 0
{%- else %}
    {#- parse time has no vars: only a build with a wrong value stops here #}
    {%- if execute %}{{ exceptions.raise_compiler_error("var reference_kind must be national_latest, care_group_previous_year or targets, not '" ~ var('reference_kind') ~ "'") }}{% endif %}
    select quarter, indicator_code, national_year as reference_year, cast(null as varchar) as reference_quarter,
           national_rate as reference_rate, national_source as reference_source,
           national_is_placeholder as reference_is_placeholder
    from national where false
{%- endif %}
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
    n.national_is_placeholder,
    case when r.denominator > 0 then r.numerator / r.denominator - n.national_rate end as gap_abs,
    case when r.denominator > 0 and n.national_rate > 0
         then (r.numerator / r.denominator - n.national_rate) / n.national_rate end as gap_rel,
    '{{ var("reference_kind") }}' as reference_kind,
    ref.reference_year,
    ref.reference_quarter,
    ref.reference_rate,
    ref.reference_source,
    ref.reference_is_placeholder,
    -- "laatst beschikbaar": the national figure is of an earlier year than the one the window measures
    '{{ var("reference_kind") }}' = 'national_latest'
        and ref.reference_year < year({{ peildatum_of('r.quarter') }} - interval 1 day) as reference_latest_available,
    cast(ref.reference_rate * (1 - cast({{ var('lag_threshold') }} as decimal(18, 6))) as double) as lag_limit,
    case when r.denominator > 0 then r.numerator / r.denominator - ref.reference_rate end as reference_gap_abs,
    r.denominator < {{ var('min_denominator') }} as too_small,
    -- compared exactly: numerator < reference_rate * (1 - lag_threshold) * denominator, in decimals
    coalesce(
        r.is_key
        and r.denominator >= {{ var('min_denominator') }}
        and cast(r.numerator as decimal(18, 6))
            < cast(ref.reference_rate as decimal(18, 6)) * (1 - cast({{ var('lag_threshold') }} as decimal(18, 6)))
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
left join reference as ref using (quarter, indicator_code)
