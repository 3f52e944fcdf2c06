-- title: Everything one recipient received
-- description: Every share of the organisations whose resolved name contains the words given,
-- description: once each (as the latest release lists it), with its flags and provenance.
-- param: name | text | FFT | words in the organisation's name
WITH latest AS (
    SELECT * FROM v_share_details
    QUALIFY row_number() OVER (PARTITION BY share_uid ORDER BY release_order DESC) = 1
)
SELECT organisation, organisation_as_written, reference, project, data_shared,
       identifying_pupil_level, sensitive_categories, leaves_dfe, date_approved,
       share_uid AS share_key, release_file, source_page, source_sheet, source_row
FROM latest
WHERE organisation ILIKE '%' || $name || '%'
ORDER BY date_approved NULLS LAST, reference
