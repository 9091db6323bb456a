{{ config(materialized="view") }}
-- The report layer, private: per quarter x practice x program the patients in a key process indicator's
-- population without its measurement in the window, with the date last measured before the peildatum.
-- Read only for the practice's own worklist; never shown across practices.
with last as (
    select l.quarter, l.patient_id, l.practice_agb, c.indicator_code, max(l.last_measured) as last_measured
    from {{ ref('int_last_measurements') }} as l
    inner join {{ ref('ref_indicator_codes') }} as c on c.bepalingnummer = l.measurement_code
    group by all
)

select pi.quarter, pi.practice_agb, pi.program, pi.patient_id, i.name_nl as indicator, l.last_measured, i.sort_order
from {{ ref('int_patient_indicators') }} as pi
inner join {{ ref('ref_indicators') }} as i using (indicator_code)
left join last as l using (quarter, patient_id, practice_agb, indicator_code)
where pi.is_key and pi.kind = 'proces' and pi.in_population and pi.measurements_in_window = 0
