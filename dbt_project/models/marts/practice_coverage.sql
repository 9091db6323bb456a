-- Per quarter x practice x program: the coverage norm of contract art. 4.17 (RULES.md, Coverage), with the
-- fee amounts the settlement rule and finance need. Declared = double_declared + not_assessable + grace +
-- assessed; fees likewise.
with patients as (
    select * from {{ ref('int_patient_coverage') }}
),

per_practice as (
    select
        quarter,
        practice_agb,
        program,
        count(*) as declared_patients,
        count(*) filter (where assessment = 'double_declared') as double_declared_patients,
        count(*) filter (where assessment = 'not_assessable') as declared_not_assessable,
        count(*) filter (where assessment = 'grace') as grace_patients,
        count(*) filter (where assessment = 'assessed') as assessed_patients,
        count(*) filter (where care_status = 'with_care') as patients_with_care,
        cast(sum(fee_amount) as decimal(12, 2)) as fees_declared,
        {% for kind in ['double_declared', 'not_assessable', 'grace'] -%}
        cast(coalesce(sum(fee_amount) filter (where assessment = '{{ kind }}'), 0) as decimal(12, 2))
            as fees_{{ kind }},
        {% endfor -%}
        cast(coalesce(sum(fee_amount) filter (where care_status = 'with_care'), 0) as decimal(12, 2))
            as fees_with_care,
        cast(coalesce(sum(fee_amount) filter (where care_status = 'empty_record'), 0)
             as decimal(12, 2)) as fees_without_care
    from patients
    group by all
)

select
    quarter,
    {{ peildatum_of('quarter') }} as peildatum,
    practice_agb,
    program,
    declared_patients,
    double_declared_patients,
    declared_not_assessable,
    grace_patients,
    assessed_patients,
    patients_with_care,
    assessed_patients - patients_with_care as empty_records,
    case when assessed_patients > 0 then patients_with_care / assessed_patients end as coverage,
    -- exact: patients_with_care >= norm * assessed, in decimals; no assessed patients: not judged
    case when assessed_patients > 0
         then cast(patients_with_care as decimal(18, 6))
              >= cast({{ var('coverage_norm') }} as decimal(18, 6)) * assessed_patients
    end as meets_norm,
    fees_declared,
    fees_double_declared,
    fees_not_assessable,
    fees_grace,
    fees_with_care,
    fees_without_care,
    cast({{ var('coverage_norm') }} as double) as coverage_norm,
    '{{ var("care_rule") }}' as care_rule,
    '{{ var("policy_version") }}' as policy_version
from per_practice
