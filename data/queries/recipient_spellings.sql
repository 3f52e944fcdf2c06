-- title: Recipients that appear under several spellings
-- description: Organisations the register names in more than one way, with every spelling,
-- description: how each was matched and how many register rows use it. Check these before
-- description: counting by name as written.
-- param: min_spellings | integer | 2 | at least this many spellings
SELECT o.name AS organisation, o.sector, count(*) AS spellings,
       string_agg(n.raw_name || ' (' || n.match_method || ', ' || coalesce(r.rows_, 0)
                  || ' rows)', '; ' ORDER BY n.raw_name) AS written_as
FROM organisations o
JOIN organisation_names n ON n.organisation_id = o.organisation_id
LEFT JOIN (SELECT organisation, count(*) AS rows_ FROM shares GROUP BY organisation) r
       ON r.organisation = n.raw_name
GROUP BY o.organisation_id, o.name, o.sector
HAVING count(*) >= $min_spellings
ORDER BY spellings DESC, organisation
