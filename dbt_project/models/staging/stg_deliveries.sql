select quarter, file_kind, file_name, sha256 as content_sha256, encoding, rows_read, rows_loaded, loaded_at
from {{ source('raw', 'deliveries') }}
