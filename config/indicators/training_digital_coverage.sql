-- training.digital_coverage_pct: staff on the roster who attended at least one
-- course of the digital category (Tin học, Công nghệ thông tin, Chuyển đổi số,
-- Trí tuệ nhân tạo) in the period, percent of headcount. A training row
-- matches a roster row of the same period and department by person_id (rows
-- without one match nobody); each roster row counts once. Scopes follow the
-- staff row's level, like staff.headcount. A scope with training but no roster
-- (a department that sent no roster): numerator 0, denominator 0, value null.
WITH digital_trainees AS (
    SELECT DISTINCT period, department, person_id
    FROM training
    WHERE category = 'digital' AND person_id IS NOT NULL
),
coverage AS (
    SELECT s.period, s.scope,
           CAST(COUNT(*) AS DOUBLE) AS headcount,
           CAST(SUM(CASE WHEN d.person_id IS NULL THEN 0 ELSE 1 END) AS DOUBLE) AS covered
    FROM staff_scoped s
    LEFT JOIN digital_trainees d
      ON d.period = s.period AND d.department = s.department AND d.person_id = s.person_id
    GROUP BY s.period, s.scope
),
trained AS (
    SELECT DISTINCT period, scope FROM training_scoped
)
SELECT COALESCE(c.period, t.period) AS period,
       COALESCE(c.scope, t.scope) AS scope,
       'training.digital_coverage_pct' AS indicator,
       100.0 * COALESCE(c.covered, 0) / NULLIF(COALESCE(c.headcount, 0), 0) AS value,
       COALESCE(c.covered, 0) AS numerator,
       COALESCE(c.headcount, 0) AS denominator,
       'percent' AS unit
FROM coverage c
FULL OUTER JOIN trained t ON t.period = c.period AND t.scope = c.scope
