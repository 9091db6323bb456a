{{ config(materialized="view") }}
-- The report layer: the consultants' practice visits (board: visits in the last twelve months; letters).
select practice_agb, visited_on, visit_kind from {{ ref('stg_practice_visits') }}
