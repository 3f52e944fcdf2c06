-- title: Shares whose legal gateway is section 537A
-- description: Shares whose legal basis, as written, mentions the words given: by default
-- description: section 537A of the Education Act 1996, the gateway for most NPD releases.
-- description: Try "Digital Economy Act" or "Schedule 2".
-- param: gateway | text | 537A | words the legal basis must contain
WITH latest AS (
    SELECT * FROM v_share_details
    QUALIFY row_number() OVER (PARTITION BY share_uid ORDER BY release_order DESC) = 1
)
SELECT organisation, sector, reference, project, legal_basis, classification,
       identifying_pupil_level, date_approved,
       share_uid AS share_key, release_file, source_page, source_sheet, source_row
FROM latest
WHERE legal_basis ILIKE '%' || $gateway || '%'
ORDER BY date_approved NULLS LAST, organisation
