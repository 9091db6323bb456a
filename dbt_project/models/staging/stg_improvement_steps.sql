select praktijk_agb as practice_agb, zorgprogramma as program, stap as step, datum as step_date,
       bevestigd_op as confirmed_on, afspraken as agreements, source_line
from {{ source('raw', 'verbetertrajecten') }}
