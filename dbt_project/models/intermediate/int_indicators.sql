-- Indicator definitions with the policy's default window filled in.
select
    indicator_code,
    program,
    name_nl,
    kind,
    is_key,
    coalesce(window_months, {{ var('window_months') }}) as window_months,
    value_operator,
    value_threshold,
    unit,
    target,
    sort_order
from {{ ref('ref_indicators') }}
