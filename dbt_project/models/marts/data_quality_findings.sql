-- Per quarter x practice x finding: what a data engineer or consultant should look at in a delivery.
-- Counts and the first source line only; no patient identifiers.
with q_patients as (
    select * from {{ ref('stg_patients') }} where quarter = {{ quarter() }}
),

-- "enrolled on the peildatum" exactly as the indicators' denominator decides it
enrolment as (
    select * from {{ ref('int_denominator') }}
),

q_declarations as (
    select * from {{ ref('stg_declarations') }} where quarter = {{ quarter() }}
),

q_measurements as (
    select * from {{ ref('stg_measurements') }} where quarter = {{ quarter() }}
),

codes as (select * from {{ ref('ref_measurement_codes') }}),

findings as (
    select practice_agb, 'dm2_and_cvrm_declared' as finding, 'declaraties' as file_kind,
           min(source_line) as first_line, count(distinct patient_id) as n
    from q_declarations
    where patient_id in (select patient_id from q_declarations where program = 'DM2')
      and patient_id in (select patient_id from q_declarations where program = 'CVRM')
      and program = 'CVRM'
    group by all

    union all
    select d.practice_agb, 'declared_not_enrolled', 'declaraties', min(d.source_line), count(*)
    from q_declarations as d
    left join enrolment as e
        on e.patient_id = d.patient_id and e.program = d.program and e.practice_agb = d.practice_agb
        and e.is_active
    where e.patient_id is null
    group by all

    union all
    select e.practice_agb, 'enrolled_not_declared', 'patienten', min(e.source_line), count(*)
    from enrolment as e
    left join q_declarations as d
        on d.patient_id = e.patient_id and d.program = e.program and d.practice_agb = e.practice_agb
    where d.patient_id is null
      and e.is_active
      and not e.is_specialist
    group by all

    union all
    select m.practice_agb, 'unknown_measurement_code', 'meetwaarden', min(m.source_line), count(*)
    from q_measurements as m
    left join codes as c on c.bepalingnummer = m.measurement_code
    where c.bepalingnummer is null
    group by all

    union all
    select m.practice_agb, 'non_numeric_value', 'meetwaarden', min(m.source_line), count(*)
    from q_measurements as m
    inner join codes as c on c.bepalingnummer = m.measurement_code
    where c.is_numeric and m.value_numeric is null
    group by all

    union all
    select m.practice_agb, 'measured_on_or_after_peildatum', 'meetwaarden', min(m.source_line), count(*)
    from q_measurements as m
    where m.measured_on >= {{ peildatum() }}
    group by all

    union all
    select p.practice_agb, 'enrolment_starts_on_or_after_peildatum', 'patienten', min(p.source_line), count(*)
    from q_patients as p
    where p.enrolment_start >= {{ peildatum() }}
    group by all
)

select
    {{ quarter() }} as quarter,
    f.practice_agb,
    f.finding,
    case f.finding
        when 'dm2_and_cvrm_declared' then 'Patiënt gedeclareerd voor zowel DM2 als CVRM (CVRM-zorg valt onder DM2)'
        when 'declared_not_enrolled' then 'Gedeclareerd, maar niet ingeschreven in het programma op de peildatum'
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
