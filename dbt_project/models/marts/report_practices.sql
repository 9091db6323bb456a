{{ config(materialized="view") }}
-- The report layer: what the reports read, and nothing else (reports/ reads only marts). The practice register
-- as the reports show it.
select practice_agb, practice_name, gp_group, place,
       -- two practices may share a name (two "De Egelantier"s): where they do, the town tells them apart
       case when count(*) over (partition by practice_name) > 1
            then practice_name || ' (' || coalesce(nullif(place, ''), practice_agb) || ')' else practice_name end as display_name
from {{ ref('stg_practices') }}
