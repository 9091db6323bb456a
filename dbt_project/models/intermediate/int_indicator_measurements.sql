-- Measurements that count for an indicator in a quarter: the indicator's codes, dated inside its window
-- [peildatum - window_months, peildatum) of the quarter whose delivery holds them: first day included,
-- the peildatum itself excluded. Each delivery is complete on its own, so a quarter reads only its own.
with indicators as (
    select i.*, c.bepalingnummer
    from {{ ref('int_indicators') }} as i
    inner join {{ ref('ref_indicator_codes') }} as c using (indicator_code)
),

measurements as (
    select *, {{ peildatum_of('quarter') }} as peildatum from {{ ref('stg_measurements') }}
)

select
    m.quarter,
    m.patient_id,
    m.practice_agb,
    i.indicator_code,
    i.program,
    m.measured_on,
    m.measurement_code,
    m.value_numeric
from measurements as m
inner join indicators as i on m.measurement_code = i.bepalingnummer
where m.measured_on < m.peildatum
  and m.measured_on >= cast(m.peildatum - to_months(i.window_months) as date)
