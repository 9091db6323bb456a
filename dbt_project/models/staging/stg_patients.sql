select
    quarter,
    patientnummer as patient_id,
    praktijk_agb as practice_agb,
    zorgprogramma as program,
    uzovi as insurer_uzovi,
    geboortejaar as birth_year,
    geslacht as sex,
    startdatum as enrolment_start,
    einddatum as enrolment_end,
    hoofdbehandelaar as main_practitioner,
    source_line
from {{ source('raw', 'patienten') }}
