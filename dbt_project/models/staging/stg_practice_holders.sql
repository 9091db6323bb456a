select praktijk_agb as practice_agb, huisarts_agb as gp_agb, huisarts_naam as gp_name,
       van as held_from, tot as held_until
from {{ source('raw', 'praktijkhouders') }}
