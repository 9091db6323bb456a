{{ config(materialized="view") }}
-- The report layer: the improvement-trajectory register (letters: agreements and confirmation dates). A report
-- of quarter q keeps only what was known on q's peildatum (reports/data.py filters on step_date and
-- confirmed_on).
select practice_agb, program, step, step_date, confirmed_on, agreements, source_line
from {{ ref('stg_improvement_steps') }}
