-- Patient-level indicator table (denominator, numerator and exclusion flags per patient x indicator), the
-- pattern of tuva's quality measures: the marts only count these flags, so every rate can be traced back
-- to the patients behind it.
with base as (
    select d.*, i.indicator_code, i.kind, i.is_key, i.value_operator, i.value_threshold
    from {{ ref('int_denominator') }} as d
    inner join {{ ref('int_indicators') }} as i on i.program = d.program
),

measured as (
    select
        quarter,
        patient_id,
        practice_agb,
        indicator_code,
        count(*) as measurements_in_window,
        count(value_numeric) as valid_values_in_window
    from {{ ref('int_indicator_measurements') }}
    group by all
),

-- the latest valid value: latest date, and on the same day the lowest bepalingnummer
latest as (
    select quarter, patient_id, practice_agb, indicator_code, value_numeric as latest_value, measured_on as latest_on
    from {{ ref('int_indicator_measurements') }}
    where value_numeric is not null
    qualify row_number() over (
        partition by quarter, patient_id, practice_agb, indicator_code
        order by measured_on desc, measurement_code asc, value_numeric asc
    ) = 1
),

flags as (
select
    b.quarter,
    b.patient_id,
    b.practice_agb,
    b.program,
    b.indicator_code,
    b.kind,
    b.is_key,
    b.in_denominator as in_population,
    b.exclusion_reason,
    coalesce(m.measurements_in_window, 0) as measurements_in_window,
    coalesce(m.valid_values_in_window, 0) as valid_values_in_window,
    l.latest_value,
    l.latest_on,
    case b.value_operator
        when '<=' then l.latest_value <= b.value_threshold
        when '<' then l.latest_value < b.value_threshold
        when '>=' then l.latest_value >= b.value_threshold
        when '>' then l.latest_value > b.value_threshold
    end as meets_condition,
    case
        when b.kind = 'proces' then b.in_denominator
        else b.in_denominator and l.latest_value is not null
    end as in_denominator,
    -- outcome patients measured only with unreadable values: reported, never in a rate
    b.kind = 'uitkomst' and b.in_denominator and coalesce(m.measurements_in_window, 0) > 0
        and l.latest_value is null as only_invalid_values
from base as b
left join measured as m using (quarter, patient_id, practice_agb, indicator_code)
left join latest as l using (quarter, patient_id, practice_agb, indicator_code)
)

select
    *,
    case
        when kind = 'proces' then in_denominator and measurements_in_window > 0
        else in_denominator and coalesce(meets_condition, false)
    end as in_numerator
from flags
