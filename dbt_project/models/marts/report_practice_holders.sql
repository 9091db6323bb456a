{{ config(materialized="view") }}
-- The report layer: who held each practice when (workbook: GP x month; letters: salutation).
select practice_agb, gp_agb, gp_name, held_from, held_until from {{ ref('stg_practice_holders') }}
