{{ config(materialized="view") }}
-- The report layer, shown across practices: per quarter the data-quality findings summed over practices (how
-- many practices, how many rows), with the disclosure rule applied to the row count.
select
    quarter, finding, description_nl,
    count(distinct practice_agb) as practices,
    {{ shown_count('sum(rows_affected)') }} as rows_affected,
    {{ count_mark('sum(rows_affected)') }} as rows_mark
from {{ ref('data_quality_findings') }}
group by quarter, finding, description_nl
