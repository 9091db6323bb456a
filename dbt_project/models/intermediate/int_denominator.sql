-- Who counts for each quarter's indicators (RULES.md, Indicators): enrolled on the peildatum, GP as main
-- practitioner, 18 or older. One row per quarter x listed patient x practice x program, with the reason for
-- exclusion.
with listed as (
    select *, {{ peildatum_of('quarter') }} as peildatum
    from {{ ref('stg_patients') }}
),

flagged as (
    select
        quarter,
        peildatum,
        patient_id,
        practice_agb,
        program,
        source_line,
        birth_year,
        enrolment_start,
        year(peildatum) - birth_year as age_on_peildatum,
        enrolment_start <= peildatum and (enrolment_end is null or enrolment_end >= peildatum) as is_active,
        main_practitioner = 'SP' as is_specialist,
        year(peildatum) - birth_year < 18 as is_under_18
    from listed
)

select
    *,
    case
        when not is_active then 'not_enrolled_on_peildatum'
        when is_specialist then 'specialist_main_practitioner'
        when is_under_18 then 'under_18'
    end as exclusion_reason,
    is_active and not is_specialist and not is_under_18 as in_denominator
from flagged
