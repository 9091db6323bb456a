-- Per quarter x practice x program: the 90% norm of contract art. 4.17 (RULES.md, Coverage), with the fee
-- amounts the settlement rule needs.
with patients as (
    select * from {{ ref('int_patient_coverage') }}
),

per_practice as (
    select
        quarter,
        practice_agb,
        program,
        count(*) as declared_patients,
        count(*) filter (where is_grace) as grace_patients,
        count(*) filter (where not is_grace) as assessed_patients,
        count(*) filter (where not is_grace and received_care) as patients_with_care,
        count(*) filter (where not_enrolled) as declared_not_enrolled,
        cast(sum(fee_amount) as decimal(12, 2)) as fees_declared,
        cast(coalesce(sum(fee_amount) filter (where is_grace), 0) as decimal(12, 2)) as fees_grace,
        cast(coalesce(sum(fee_amount) filter (where not is_grace and received_care), 0) as decimal(12, 2))
            as fees_with_care,
        cast(coalesce(sum(fee_amount) filter (where not is_grace and not received_care), 0) as decimal(12, 2))
            as fees_without_care
    from patients
    group by all
)

select
    quarter,
    {{ peildatum_of('quarter') }} as peildatum,
    practice_agb,
    program,
    declared_patients,
    grace_patients,
    assessed_patients,
    patients_with_care,
    assessed_patients - patients_with_care as empty_records,
    declared_not_enrolled,
    case when assessed_patients > 0 then patients_with_care / assessed_patients end as coverage,
    -- exact: patients_with_care >= norm * assessed, in decimals; no assessed patients: not judged
    case when assessed_patients > 0
         then cast(patients_with_care as decimal(18, 6))
              >= cast({{ var('coverage_norm') }} as decimal(18, 6)) * assessed_patients
    end as meets_norm,
    fees_declared,
    fees_grace,
    fees_with_care,
    fees_without_care,
    cast({{ var('coverage_norm') }} as double) as coverage_norm,
    '{{ var("care_rule") }}' as care_rule,
    '{{ var("policy_version") }}' as policy_version
from per_practice
