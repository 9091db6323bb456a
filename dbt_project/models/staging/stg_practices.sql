select praktijk_agb as practice_agb, praktijk_naam as practice_name, hagro as gp_group, plaats as place
from {{ source('raw', 'praktijken') }}
