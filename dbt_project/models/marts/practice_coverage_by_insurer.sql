-- Per quarter x practice x program x insurer (UZOVI): the declared fees and the fees of assessed patients without
-- care, from the same patient rows as practice_coverage. A settlement takes back fees of patients without care
-- (RULES.md, Settlement), each declared to one insurer: the policy marts split every settlement by insurer
-- from this (policy/settlement.insurer_split), and finance returns each insurer its part.
with patients as (
    select * from {{ ref('int_patient_coverage') }}
),

insurers as (
    select uzovi, insurer_name from {{ ref('ref_insurers') }}
)

select
    p.quarter,
    p.practice_agb,
    p.program,
    p.insurer_uzovi,
    coalesce(any_value(i.insurer_name), 'onbekend') as insurer_name,
    count(*) as declared_patients,
    count(*) filter (where p.care_status = 'empty_record') as patients_without_care,
    cast(sum(p.fee_amount) as decimal(12, 2)) as fees_declared,
    cast(coalesce(sum(p.fee_amount) filter (where p.care_status = 'empty_record'), 0)
         as decimal(12, 2)) as fees_without_care
from patients as p
left join insurers as i on i.uzovi = p.insurer_uzovi
group by p.quarter, p.practice_agb, p.program, p.insurer_uzovi
