-- Patient-level "received care" per quarter (RULES.md, Coverage): declared patients, grace for recent
-- enrolment, and whether the program's core measurements were registered in the window (VIPLive's
-- empty-record logic).
with declared as (
    select quarter, patient_id, practice_agb, program, sum(fee_amount) as fee_amount
    from {{ ref('stg_declarations') }}
    group by all
),

enrolled as (
    select quarter, patient_id, practice_agb, program, min(enrolment_start) as enrolment_start
    from {{ ref('stg_patients') }}
    group by all
),

core as (
    select program, concept, bepalingnummer from {{ ref('ref_core_measurements') }}
),

concepts_per_program as (
    select program, count(distinct concept) as core_concepts from core group by all
),

care as (
    select m.quarter, m.patient_id, m.practice_agb, c.program, count(distinct c.concept) as core_concepts_done
    from {{ ref('stg_measurements') }} as m
    inner join core as c on m.measurement_code = c.bepalingnummer
    where m.measured_on < {{ peildatum_of('m.quarter') }}
      and m.measured_on >= cast({{ peildatum_of('m.quarter') }} - to_months({{ var('window_months') }}) as date)
    group by all
)

select
    d.quarter,
    d.patient_id,
    d.practice_agb,
    d.program,
    d.fee_amount,
    e.enrolment_start,
    e.enrolment_start is null as not_enrolled,
    -- enrolled less than grace_months before the peildatum: cannot be expected to have had care yet
    coalesce(e.enrolment_start > cast({{ peildatum_of('d.quarter') }} - to_months({{ var('grace_months') }}) as date), false)
        as is_grace,
    coalesce(c.core_concepts_done, 0) as core_concepts_done,
    p.core_concepts,
    {% if var('care_rule') == 'all' -%}
    coalesce(c.core_concepts_done, 0) >= p.core_concepts
    {%- else -%}
    coalesce(c.core_concepts_done, 0) >= 1
    {%- endif %} as received_care
from declared as d
left join enrolled as e using (quarter, patient_id, practice_agb, program)
left join care as c using (quarter, patient_id, practice_agb, program)
left join concepts_per_program as p on p.program = d.program
