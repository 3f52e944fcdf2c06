-- title: Commercial recipients of identifying data, by year
-- description: Companies that received identifying pupil-level data (the tool's identifying
-- description: and pupil-level flags), per year the share was approved (or released, when no
-- description: approval date is given). Each share counts once, as the latest release lists it.
-- param: from_year | integer | 2012 | first year
-- param: to_year | integer | 2030 | last year
WITH latest AS (
    SELECT * FROM v_share_details
    QUALIFY row_number() OVER (PARTITION BY share_uid ORDER BY release_order DESC) = 1
)
SELECT year(coalesce(date_approved, date_released)) AS year,
       organisation,
       count(*) AS shares,
       count(*) FILTER (WHERE leaves_dfe) AS sent_out_of_dfe,
       string_agg(DISTINCT coalesce(reference, share_uid), ', ') AS share_references
FROM latest
WHERE sector = 'commercial' AND identifying_pupil_level
  AND year(coalesce(date_approved, date_released)) BETWEEN $from_year AND $to_year
GROUP BY ALL
ORDER BY year, shares DESC, organisation
