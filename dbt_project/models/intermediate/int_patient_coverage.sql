-- A table, unlike the other intermediate models: both practice_coverage and data_quality_findings read it, and
-- as a view its patient-level joins ran twice per build (~1 s at 200 practices); it holds one row per declared
-- patient, small beside the measurements it is computed from.
{{ config(materialized="table") }}
-- Patient-level assessment per quarter x declared patient x practice x program (RULES.md, Coverage).
-- Every declared patient lands in exactly one `assessment`:
--   double_declared  a CVRM declaration in a quarter the patient is also declared for DM2 (CVRM care falls
--                    under DM2): a separate finance line, not judged for CVRM coverage;
--   not_assessable   absent from `patienten`, not enrolled on the peildatum, or the specialist as main
--                    practitioner: the KIS holds no care record the practice answers for, so never counted
--                    as "without care" (separate finance line, data-quality finding);
--   grace            enrolled less than grace_months before the peildatum: cannot have had care yet;
--   assessed         judged: received care or not.
-- Enrolment is decided exactly as the indicators' denominator decides it (int_denominator).
with declared as (
    select quarter, patient_id, practice_agb, program, sum(fee_amount) as fee_amount, min(source_line) as source_line,
        -- one declaration per quarter x patient x program (stg_declarations' key), so one insurer
        min(insurer_uzovi) as insurer_uzovi
    from {{ ref('stg_declarations') }}
    group by all
),

declared_dm2 as (
    select distinct quarter, patient_id from {{ ref('stg_declarations') }} where program = 'DM2'
),

enrolment as (
    select
        quarter, patient_id, practice_agb, program,
        bool_or(is_active) as is_active,
        bool_or(is_active and not is_specialist) as is_assessable,
        min(enrolment_start) filter (where is_active and not is_specialist) as enrolment_start
    from {{ ref('int_denominator') }}
    group by all
),

-- each core measurement's own window: the policy window, or longer where its indicator says so (fundus 36
-- months), never shorter
core as (
    select
        program, concept, bepalingnummer,
        greatest(coalesce(window_months, {{ var('window_months') }}), {{ var('window_months') }}) as own_window_months
    from {{ ref('ref_core_measurements') }}
),

concepts_per_program as (
    select program, count(distinct concept) as core_concepts from core group by all
),

care as (
    select
        m.quarter, m.patient_id, m.practice_agb, c.program,
        -- care_rule any: a core measurement in the policy window
        count(distinct c.concept) filter (
            where m.measured_on >= cast({{ peildatum_of('m.quarter') }} - to_months({{ var('window_months') }}) as date)
        ) as core_concepts_in_window,
        -- care_rule all: each core measurement in its own window
        count(distinct c.concept) filter (
            where m.measured_on >= cast({{ peildatum_of('m.quarter') }} - to_months(c.own_window_months) as date)
        ) as core_concepts_in_own_window
    from {{ ref('stg_measurements') }} as m
    inner join core as c on m.measurement_code = c.bepalingnummer
    where m.measured_on < {{ peildatum_of('m.quarter') }}
    group by all
),

joined as (
    select
        d.quarter,
        d.patient_id,
        d.practice_agb,
        d.program,
        d.fee_amount,
        d.insurer_uzovi,
        d.source_line,
        e.enrolment_start,
        case
            when d.program = 'CVRM' and dm.patient_id is not null then 'dm2_also_declared'
            when e.patient_id is null then 'not_in_patients'
            when not e.is_active then 'not_enrolled_on_peildatum'
            when not e.is_assessable then 'specialist_main_practitioner'
        end as not_assessed_reason,
        coalesce(c.core_concepts_in_window, 0) as core_concepts_in_window,
        coalesce(c.core_concepts_in_own_window, 0) as core_concepts_in_own_window,
        p.core_concepts
    from declared as d
    left join declared_dm2 as dm on dm.quarter = d.quarter and dm.patient_id = d.patient_id
    left join enrolment as e
        on e.quarter = d.quarter and e.patient_id = d.patient_id and e.practice_agb = d.practice_agb
        and e.program = d.program
    left join care as c
        on c.quarter = d.quarter and c.patient_id = d.patient_id and c.practice_agb = d.practice_agb
        and c.program = d.program
    left join concepts_per_program as p on p.program = d.program
),

assessed as (
    select
        *,
        case
            when not_assessed_reason = 'dm2_also_declared' then 'double_declared'
            when not_assessed_reason is not null then 'not_assessable'
            when enrolment_start > cast({{ peildatum_of('quarter') }} - to_months({{ var('grace_months') }}) as date)
                then 'grace'
            else 'assessed'
        end as assessment
    from joined
),

judged as (
    select
        quarter,
        patient_id,
        practice_agb,
        program,
        fee_amount,
        insurer_uzovi,
        source_line,
        enrolment_start,
        not_assessed_reason,
        assessment,
        assessment = 'grace' as is_grace,
        core_concepts_in_window,
        core_concepts_in_own_window,
        core_concepts,
        {% if var('care_rule') == 'all' -%}
        core_concepts_in_own_window >= core_concepts
        {%- else -%}
        core_concepts_in_window >= 1
        {%- endif %} as received_care
    from assessed
)

select
    *,
    -- the coverage norm's two kinds of assessed patient, said once for every mart that counts them (coverage,
    -- the insurer split, the private worklist): 'with_care', or an 'empty_record' whose fee a settlement takes
    -- back; null for a patient who is not assessed
    case when assessment = 'assessed' then case when received_care then 'with_care' else 'empty_record' end end
        as care_status
from judged
