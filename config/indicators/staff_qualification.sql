-- staff.qualification.*_pct: qualification structure, percent of headcount.
--   postgraduate_pct       (doctorate + master) / headcount
--   university_pct         university / headcount
--   college_vocational_pct (college + intermediate) / headcount
--   other_pct              (elementary + none) / headcount; a blank cell is "none"
-- The four shares of a scope add up to 100. Scopes follow the staff row's own
-- level (staff_scoped). The counts are taken in one pass over the roster and
-- turned into one row per indicator id by the CROSS JOIN with the list of ids.
WITH counts AS (
    SELECT period, scope,
           CAST(COUNT(*) AS DOUBLE) AS headcount,
           CAST(SUM(CASE WHEN qualification IN ('doctorate', 'master') THEN 1 ELSE 0 END) AS DOUBLE) AS postgraduate,
           CAST(SUM(CASE WHEN qualification = 'university' THEN 1 ELSE 0 END) AS DOUBLE) AS university,
           CAST(SUM(CASE WHEN qualification IN ('college', 'intermediate') THEN 1 ELSE 0 END) AS DOUBLE) AS college_vocational,
           CAST(SUM(CASE WHEN qualification IN ('elementary', 'none') OR qualification IS NULL THEN 1 ELSE 0 END) AS DOUBLE) AS other
    FROM staff_scoped
    GROUP BY period, scope
),
shares AS (
    SELECT c.period, c.scope, i.indicator,
           CASE i.indicator
               WHEN 'staff.qualification.postgraduate_pct' THEN c.postgraduate
               WHEN 'staff.qualification.university_pct' THEN c.university
               WHEN 'staff.qualification.college_vocational_pct' THEN c.college_vocational
               WHEN 'staff.qualification.other_pct' THEN c.other
           END AS numerator,
           c.headcount AS denominator
    FROM counts c
    CROSS JOIN (VALUES ('staff.qualification.postgraduate_pct'),
                       ('staff.qualification.university_pct'),
                       ('staff.qualification.college_vocational_pct'),
                       ('staff.qualification.other_pct')) AS i (indicator)
)
SELECT period, scope, indicator,
       100.0 * numerator / NULLIF(denominator, 0) AS value,
       numerator, denominator, 'percent' AS unit
FROM shares
