-- compliance.submission_rate_pct: departments of the registry with an accepted
-- submission (any form) for the period, percent of the departments in the
-- registry; for a level, of the registry's departments at that level; for a
-- department, 0 or 100. Computed for every period that appears in any table,
-- so a department that sent nothing reads 0. A quarter and its year are
-- different periods. A plan's range of years (period `2021-2025`, nine
-- characters) is no reporting period: no row for it.
WITH periods AS (
    SELECT period FROM (
        SELECT period FROM submissions
        UNION SELECT period FROM staff
        UNION SELECT period FROM training
        UNION SELECT period FROM plan
        UNION SELECT period FROM recruitment
    ) AS named
    WHERE LENGTH(period) <> 9
),
registry AS (
    SELECT code, 'province' AS scope FROM departments
    UNION ALL
    SELECT code, 'level:' || level AS scope FROM departments
    UNION ALL
    SELECT code, 'department:' || code AS scope FROM departments
),
submitted AS (
    SELECT DISTINCT period, department FROM submissions WHERE status = 'accepted'
),
counts AS (
    SELECT p.period, r.scope,
           CAST(COUNT(s.department) AS DOUBLE) AS submitted,
           CAST(COUNT(*) AS DOUBLE) AS expected
    FROM periods p
    CROSS JOIN registry r
    LEFT JOIN submitted s ON s.period = p.period AND s.department = r.code
    GROUP BY p.period, r.scope
)
SELECT period, scope,
       'compliance.submission_rate_pct' AS indicator,
       100.0 * submitted / NULLIF(expected, 0) AS value,
       submitted AS numerator,
       expected AS denominator,
       'percent' AS unit
FROM counts
