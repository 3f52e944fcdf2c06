-- title: Shares that left the register
-- description: Shares a release listed but the latest release no longer lists (data destroyed,
-- description: agreement ended, or re-referenced), with the last release that listed them and
-- description: where they sat in it.
-- param: section | text | | only this section (dsap, regular, npd_requests, police, court_orders; blank: all)
SELECT h.share_key, h.reference, h.organisation, h.section, h.project,
       r.period_label AS last_listed_in, h.releases_seen,
       r.source_file AS release_file, s.source_page, s.source_sheet, s.source_row
FROM share_history h
JOIN releases r ON r.release_id = h.last_release_id
LEFT JOIN shares s ON s.share_id = h.last_share_id
WHERE NOT h.in_latest_release AND ($section = '' OR h.section = $section)
ORDER BY r.release_order, h.section, h.reference NULLS LAST, h.share_key
