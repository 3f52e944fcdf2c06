-- title: Press recipients and what they got
-- description: Every share to a newspaper, publisher or broadcaster, once each (as the latest
-- description: release lists it): the data items, DfE's classification, whether it identifies
-- description: children, and where the row sits in its release.
-- param: name | text | | only recipients whose name contains this (blank: all)
WITH latest AS (
    SELECT * FROM v_share_details
    QUALIFY row_number() OVER (PARTITION BY share_uid ORDER BY release_order DESC) = 1
)
SELECT organisation, reference, project, data_shared, classification,
       identifying_pupil_level, date_approved, status,
       share_uid AS share_key, release_file, source_page, source_sheet, source_row
FROM latest
WHERE sector = 'press' AND organisation ILIKE '%' || $name || '%'
ORDER BY date_approved NULLS LAST, organisation, reference
