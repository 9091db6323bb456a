-- Per quarter x patient x practice x measurement code: the date it was last measured before the quarter's
-- peildatum, in that quarter's delivery (each delivery is complete on its own). The private worklists show it
-- beside a patient without care or without a key measurement.
select
    quarter,
    patient_id,
    practice_agb,
    measurement_code,
    max(measured_on) as last_measured
from {{ ref('stg_measurements') }}
where measured_on < {{ peildatum_of('quarter') }}
group by all
