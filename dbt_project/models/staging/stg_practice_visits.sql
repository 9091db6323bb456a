select praktijk_agb as practice_agb, datum as visited_on, soort as visit_kind
from {{ source('raw', 'praktijkbezoeken') }}
