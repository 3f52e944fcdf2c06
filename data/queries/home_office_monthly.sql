-- title: Home Office requests and matches per month
-- description: Individuals the Home Office asked DfE about, and how many DfE matched, one row
-- description: per month, from the latest release listing that month.
-- param: from_month | date | 2015-07-01 | first month
WITH one AS (
    SELECT c.period_start, c.measure, c.value, r.source_file AS release_file, c.source_page,
           c.source_sheet, c.source_row
    FROM count_rows c JOIN releases r ON r.release_id = c.release_id
    WHERE c.section = 'home_office' AND c.period_start >= $from_month
    QUALIFY row_number() OVER (PARTITION BY c.period_start, c.measure
                               ORDER BY r.release_order DESC) = 1
)
SELECT period_start AS month,
       max(value) FILTER (WHERE measure ILIKE '%request%') AS requested,
       max(value) FILTER (WHERE measure ILIKE '%match%') AS matched,
       any_value(release_file) AS release_file, any_value(source_page) AS source_page,
       any_value(source_sheet) AS source_sheet, min(source_row) AS source_row
FROM one
GROUP BY period_start
ORDER BY period_start
