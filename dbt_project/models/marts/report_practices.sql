{{ config(materialized="view") }}
-- The report layer: what the reports read, and nothing else (reports/ reads only marts). The practice register
-- as the reports show it.
select practice_agb, practice_name, gp_group, place from {{ ref('stg_practices') }}
