{{ config(materialized="view") }}
-- The report layer, private: per quarter x practice x program the assessed patients without care (pseudonyms),
-- with their last core measurement before the peildatum and whether the quarter's fees of them are settled.
-- Read only for the practice's own worklist (reports/<q>/prive/<agb>/); never shown across practices.
with core_last as (
    select l.quarter, l.patient_id, l.practice_agb, c.program, max(l.last_measured) as last_core_measurement
    from {{ ref('int_last_measurements') }} as l
    inner join {{ ref('ref_core_measurements') }} as c on c.bepalingnummer = l.measurement_code
    group by all
)

select p.quarter, p.practice_agb, p.program, p.patient_id, p.fee_amount, l.last_core_measurement,
       coalesce(not cov.meets_norm, false) as settled
from {{ ref('int_patient_coverage') }} as p
inner join {{ ref('practice_coverage') }} as cov using (quarter, practice_agb, program)
left join core_last as l using (quarter, patient_id, practice_agb, program)
where p.care_status = 'empty_record'
