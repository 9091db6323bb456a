-- Every reference value in force (RULES.md, Reference after InEen): per kind (national | target) x indicator
-- x year, the latest staff import, else the shipped default. Which kind the 20% rule uses is the policy's
-- reference.kind (practice_indicators).
with shipped as (
    select 'national' as kind, indicator_code, year, national_rate as rate, source,
           cast(null as varchar) as import_id, cast(null as timestamp) as imported_at, 1 as priority
    from {{ ref('ref_national_averages') }}
    union all
    select 'target', indicator_code, year, target_rate, source, null, null, 1
    from {{ ref('ref_targets') }}
),

imported as (
    select kind, indicator_code, year, cast(rate as double) as rate, source, import_id, imported_at, 0 as priority
    from {{ source('raw', 'reference_values') }}
)

select
    kind,
    indicator_code,
    year,
    rate,
    source,
    import_id,
    imported_at,
    import_id is not null as imported,
    -- the shipped values are illustrative until staff import the real ones: every report says so
    import_id is null and source ilike 'illustratief%' as is_placeholder
from (select * from shipped union all select * from imported)
qualify row_number() over (
    partition by kind, indicator_code, year order by priority, imported_at desc nulls last, import_id desc) = 1
