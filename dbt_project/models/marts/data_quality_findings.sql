-- Per quarter x practice x finding: what a data engineer or consultant should look at in a delivery.
-- Counts and the first source line only; no patient identifiers.
with q_patients as (
    select *, {{ peildatum_of('quarter') }} as peildatum from {{ ref('stg_patients') }}
),

-- "enrolled on the peildatum" exactly as the indicators' denominator decides it
enrolment as (
    select * from {{ ref('int_denominator') }}
),

q_declarations as (
    select * from {{ ref('stg_declarations') }}
),

q_measurements as (
    select *, {{ peildatum_of('quarter') }} as peildatum from {{ ref('stg_measurements') }}
),

codes as (select * from {{ ref('ref_measurement_codes') }}),

findings as (
    select quarter, practice_agb, 'dm2_and_cvrm_declared' as finding, 'declaraties' as file_kind,
           min(source_line) as first_line, count(distinct patient_id) as n
    from q_declarations as d
    where program = 'CVRM'
      and exists (select 1 from q_declarations as dm
                  where dm.quarter = d.quarter and dm.patient_id = d.patient_id and dm.program = 'DM2')
    group by all

    union all
    -- declared but not assessable (RULES.md, Coverage): one finding per reason, the same patients whose fees
    -- finance sees as fees_not_assessable
    select quarter, practice_agb, 'declared_' || not_assessed_reason, 'declaraties', min(source_line), count(*)
    from {{ ref('int_patient_coverage') }}
    where assessment = 'not_assessable'
    group by all

    union all
    select e.quarter, e.practice_agb, 'enrolled_not_declared', 'patienten', min(e.source_line), count(*)
    from enrolment as e
    left join q_declarations as d
        on d.quarter = e.quarter and d.patient_id = e.patient_id and d.program = e.program
        and d.practice_agb = e.practice_agb
    where d.patient_id is null
      and e.is_active
      and not e.is_specialist
    group by all

    union all
    select m.quarter, m.practice_agb, 'unknown_measurement_code', 'meetwaarden', min(m.source_line), count(*)
    from q_measurements as m
    left join codes as c on c.bepalingnummer = m.measurement_code
    where c.bepalingnummer is null
    group by all

    union all
    select m.quarter, m.practice_agb, 'non_numeric_value', 'meetwaarden', min(m.source_line), count(*)
    from q_measurements as m
    inner join codes as c on c.bepalingnummer = m.measurement_code
    where c.is_numeric and m.value_numeric is null
    group by all

    union all
    select m.quarter, m.practice_agb, 'measured_on_or_after_peildatum', 'meetwaarden', min(m.source_line), count(*)
    from q_measurements as m
    where m.measured_on >= m.peildatum
    group by all

    union all
    select p.quarter, p.practice_agb, 'enrolment_starts_on_or_after_peildatum', 'patienten', min(p.source_line),
           count(*)
    from q_patients as p
    where p.enrolment_start >= p.peildatum
    group by all
)

select
    f.quarter,
    f.practice_agb,
    f.finding,
    case f.finding
        when 'dm2_and_cvrm_declared'
            then 'Patiënt gedeclareerd voor zowel DM2 als CVRM (CVRM-zorg valt onder DM2): CVRM-vergoeding apart'
        when 'declared_not_in_patients' then 'Gedeclareerd, maar niet in het patiëntenbestand: niet te beoordelen, vergoeding apart'
        when 'declared_not_enrolled_on_peildatum'
            then 'Gedeclareerd, maar niet ingeschreven in het programma op de peildatum: niet te beoordelen, vergoeding apart'
        when 'declared_specialist_main_practitioner'
            then 'Gedeclareerd, maar specialist is hoofdbehandelaar: niet te beoordelen, vergoeding apart'
        when 'enrolled_not_declared' then 'Ingeschreven (hoofdbehandelaar huisarts), maar niet gedeclareerd'
        when 'unknown_measurement_code' then 'Meetwaarde met een onbekend bepalingnummer'
        when 'non_numeric_value' then 'Niet-numerieke uitslag bij een numerieke bepaling'
        when 'measured_on_or_after_peildatum' then 'Meetwaarde gedateerd op of na de peildatum'
        when 'enrolment_starts_on_or_after_peildatum' then 'Inschrijving start op of na de peildatum'
    end as description_nl,
    f.file_kind,
    f.first_line,
    f.n as rows_affected
from findings as f
