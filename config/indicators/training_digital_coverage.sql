-- training.digital_coverage_pct: staff on the roster who attended at least one
-- course of the digital category (Tin học, Công nghệ thông tin, Chuyển đổi số,
-- Trí tuệ nhân tạo) in the period, percent of headcount. A training row
-- matches a roster row of the same period anywhere in the province, by
-- person_id, else (a training row without one) by full name + birth date: a
-- course counts for the attendee's department whoever reported it, and "a
-- course" is any attendance whatever its result. Each roster row counts once,
-- so the province counts each person once. Scopes follow the staff row's
-- level, like staff.headcount. A scope with training but no roster (a
-- department that sent no roster): numerator 0, denominator 0, value null.
WITH by_id AS (
    SELECT DISTINCT period, person_id
    FROM training
    WHERE category = 'digital' AND person_id IS NOT NULL
),
by_name AS (
    SELECT DISTINCT period, full_name, birth_date
    FROM training
    WHERE category = 'digital' AND person_id IS NULL
      AND full_name IS NOT NULL AND birth_date IS NOT NULL
),
coverage AS (
    SELECT s.period, s.scope,
           CAST(COUNT(*) AS DOUBLE) AS headcount,
           CAST(SUM(CASE WHEN i.person_id IS NULL AND n.full_name IS NULL THEN 0 ELSE 1 END) AS DOUBLE) AS covered
    FROM staff_scoped s
    LEFT JOIN by_id i
      ON i.period = s.period AND i.person_id = s.person_id
    LEFT JOIN by_name n
      ON n.period = s.period AND n.full_name = s.full_name AND n.birth_date = s.birth_date
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
