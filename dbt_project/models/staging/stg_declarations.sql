select
    quarter,
    patientnummer as patient_id,
    praktijk_agb as practice_agb,
    zorgprogramma as program,
    uzovi as insurer_uzovi,
    periode_start as period_start,
    periode_eind as period_end,
    bedrag as fee_amount,
    source_line
from {{ source('raw', 'declaraties') }}
