{{ config(materialized="view") }}
-- The report layer, shown across practices: the board's coverage table per quarter x practice x program, with
-- the disclosure rule applied (macros/disclosure.sql). A hidden count is null, never stored beside what is shown;
-- its `*_mark` says how the board writes it ('<10' for a small count, '–' for one hidden with it).
select
    quarter, practice_agb, program,
    {{ shown_count('assessed_patients') }} as assessed_patients,
    {{ count_mark('assessed_patients') }} as assessed_mark,
    {{ shown_part('patients_with_care', 'assessed_patients', 'patients_with_care', 'empty_records') }} as patients_with_care,
    {{ part_mark('patients_with_care', 'assessed_patients', 'patients_with_care', 'empty_records') }} as with_care_mark,
    {{ shown_part('empty_records', 'assessed_patients', 'patients_with_care', 'empty_records') }} as empty_records,
    {{ part_mark('empty_records', 'assessed_patients', 'patients_with_care', 'empty_records') }} as empty_mark,
    case when not {{ parts_hidden('assessed_patients', 'patients_with_care', 'empty_records') }} then coverage end
        as coverage,
    -- the norm's verdict is the policy's outcome and stays: it bounds the rate, it does not give a count back
    meets_norm
from {{ ref('practice_coverage') }}
