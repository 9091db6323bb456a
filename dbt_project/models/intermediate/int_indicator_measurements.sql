-- Measurements that count for an indicator: the indicator's codes, dated inside its window
-- [peildatum - window_months, peildatum): first day included, the peildatum itself excluded.
with indicators as (
    select i.*, c.bepalingnummer, {{ peildatum() }} as peildatum
    from {{ ref('int_indicators') }} as i
    inner join {{ ref('ref_indicator_codes') }} as c using (indicator_code)
)

select
    m.patient_id,
    m.practice_agb,
    i.indicator_code,
    i.program,
    m.measured_on,
    m.measurement_code,
    m.value_numeric
from {{ ref('stg_measurements') }} as m
inner join indicators as i on m.measurement_code = i.bepalingnummer
where m.quarter = {{ quarter() }}
  and m.measured_on < i.peildatum
  and m.measured_on >= cast(i.peildatum - to_months(i.window_months) as date)
