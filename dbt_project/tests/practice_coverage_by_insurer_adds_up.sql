-- Per quarter x practice x program the insurers' declared fees and fees without care add up to
-- practice_coverage's, to the cent: no fee is lost or counted twice by the split.
with by_insurer as (
    select quarter, practice_agb, program, sum(fees_declared) as fees_declared,
           sum(fees_without_care) as fees_without_care, sum(declared_patients) as declared_patients
    from {{ ref('practice_coverage_by_insurer') }}
    group by all
)

select c.quarter, c.practice_agb, c.program
from {{ ref('practice_coverage') }} as c
full outer join by_insurer as i using (quarter, practice_agb, program)
where c.fees_declared is distinct from i.fees_declared
   or c.fees_without_care is distinct from i.fees_without_care
   or c.declared_patients is distinct from i.declared_patients
