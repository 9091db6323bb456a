-- Values arrive as text with a decimal comma. Anything that is not a plain number (">90", "volgt") gets a
-- null value_numeric: it still counts for a process indicator, never for an outcome rate.
select
    quarter,
    patientnummer as patient_id,
    praktijk_agb as practice_agb,
    bepalingnummer as measurement_code,
    memocode as memo_code,
    datum as measured_on,
    waarde as value_text,
    case when regexp_full_match(trim(waarde), '-?[0-9]+([.,][0-9]+)?')
         then cast(replace(trim(waarde), ',', '.') as decimal(18, 4)) end as value_numeric,
    eenheid as unit,
    source_line
from {{ source('raw', 'meetwaarden') }}
