-- staff.units_with_dedicated_it_pct: departments whose roster has at least one
-- dedicated digital transformation officer (digital_role = dedicated), percent
-- of the departments that sent a roster for the period. A department counts
-- once, at its registry level (level:<level>); at department scope the value is
-- 0 or 100. A department without a roster is in neither count, and has no
-- row of its own.
WITH units AS (
    SELECT period, department,
           MAX(CASE WHEN digital_role = 'dedicated' THEN 1 ELSE 0 END) AS has_dedicated
    FROM staff
    GROUP BY period, department
),
scoped AS (
    SELECT period, 'province' AS scope, has_dedicated FROM units
    UNION ALL
    SELECT u.period, 'level:' || d.level AS scope, u.has_dedicated
    FROM units u JOIN departments d ON d.code = u.department
    UNION ALL
    SELECT period, 'department:' || department AS scope, has_dedicated FROM units
),
counts AS (
    SELECT period, scope,
           CAST(SUM(has_dedicated) AS DOUBLE) AS with_dedicated,
           CAST(COUNT(*) AS DOUBLE) AS with_roster
    FROM scoped
    GROUP BY period, scope
)
SELECT period, scope,
       'staff.units_with_dedicated_it_pct' AS indicator,
       100.0 * with_dedicated / NULLIF(with_roster, 0) AS value,
       with_dedicated AS numerator,
       with_roster AS denominator,
       'percent' AS unit
FROM counts
