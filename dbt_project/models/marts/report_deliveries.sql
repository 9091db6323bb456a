{{ config(materialized="view") }}
-- The report layer: the files each quarter was loaded from (file names and rows in the reports; their hashes
-- in the inputs' fingerprint).
select quarter, file_kind, file_name, content_sha256, encoding, rows_read, rows_loaded from {{ ref('stg_deliveries') }}
